import type { Logger } from 'pino'

// OpenTelemetry traces, opt-in: with OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) set,
// spans are exported over OTLP/HTTP, configured by the standard OTEL_* variables (headers, timeout,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*), which the SDK reads itself. Without it
// nothing is loaded and every span is the API's no-op. Spans carry ids, doors, states and
// durations, never addresses or content (spans.ts).

export interface Tracing { shutdown: () => Promise<void> }

const NONE: Tracing = { shutdown: async () => {} }

export async function startTracing (env: NodeJS.ProcessEnv, logger: Logger): Promise<Tracing> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT
  if (endpoint === undefined || endpoint === '' || env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return NONE
  const [{ context, trace }, { AsyncLocalStorageContextManager }, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes, envDetector, detectResources }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources')
  ])
  // Parent links follow the async work of a message (AsyncLocalStorage), across awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'mailrun' }).merge(detectResources({ detectors: [envDetector] }))
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] })
  trace.setGlobalTracerProvider(provider)
  logger.info({ endpoint }, 'OpenTelemetry traces exported over OTLP/HTTP')
  return {
    async shutdown () {
      await provider.shutdown().catch((error: unknown) => { logger.warn({ err: error }, 'flushing the last traces failed') })
    }
  }
}
