import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api'

// One helper for every span mailrun makes: it runs `work` as the active span (so what it calls
// becomes its children) and ends it, marking an error by its type only — an error's message can
// quote an address or what a sender wrote, which never leaves in a trace.

const tracer = trace.getTracer('mailrun')

export async function inSpan<T> (name: string, attributes: Attributes, work: () => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return await tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work()
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR })
      span.setAttribute('error.type', error instanceof Error ? error.name : typeof error)
      throw error
    } finally {
      span.end()
    }
  })
}

/** An outgoing HTTP call (Orchestrator): a client span named by method and host, no query, no body. */
export async function clientSpan<T extends { statusCode: number }> (method: string, url: URL, work: () => Promise<T>): Promise<T> {
  return await inSpan(`${method} ${url.host}`, { 'http.request.method': method, 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }, async () => {
    const answer = await work()
    trace.getActiveSpan()?.setAttribute('http.response.status_code', answer.statusCode)
    return answer
  }, SpanKind.CLIENT)
}
