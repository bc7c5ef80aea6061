import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { startDnsServer } from '../support/dns-server.js'
import { eventually } from '../support/launching.js'
import { postCommand, setUpRemoteTenant, startMailrun } from '../support/mailrun-process.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Opt-in OpenTelemetry: mailrun started with OTEL_EXPORTER_OTLP_ENDPOINT exports one trace per
// message to a local OTLP/HTTP receiver — door, store, decide (authenticate in it), launch (the
// Orchestrator call in it, as a client span) — linked parent to child, with no address or text
// of the message in any attribute.

interface OtlpSpan { traceId: string, spanId: string, parentSpanId?: string, name: string, kind: number, attributes?: Array<{ key: string, value: Record<string, unknown> }> }

t.test(`traces of a message exported over OTLP, on ${testDatabaseKind}`, async (t) => {
  const spans: OtlpSpan[] = []
  const received: string[] = []
  const collector = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      received.push(`${request.method ?? ''} ${request.url ?? ''} ${String(request.headers['content-type'])}`)
      const parsed = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string, value: { stringValue?: string } }> }, scopeSpans: Array<{ spans: OtlpSpan[] }> }> }
      for (const rs of parsed.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { collector.close() })
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const dns = await startDnsServer({})
  t.teardown(dns.close)
  let database: Record<string, string>
  if (testDatabaseKind === 'postgres') database = { DATABASE_URL: (await createTestDatabase(t, { migrate: false })).url ?? '' }
  else {
    const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-otel-'))
    t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
    database = { MAILRUN_DATA_DIR: dir }
  }
  const mailrun = await startMailrun(t, {
    ...database,
    MAILRUN_DNS_SERVERS: dns.address,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_SERVICE_NAME: 'mailrun-under-test'
  })
  t.match(mailrun.output(), 'OpenTelemetry traces exported over OTLP/HTTP')
  const tenant = await setUpRemoteTenant(mailrun.url, sim)
  const answer = await postCommand(mailrun.url, tenant.ingressToken, '<traced-1@sender.example>')
  t.match(answer.json, { status: 'accepted', launch: { state: 'launched' } })

  const root = await eventually(async () => spans.find((s) => s.name === 'mailrun.message'), 20_000)
  const trace = await eventually(async () => { const all = spans.filter((s) => s.traceId === root.traceId); return all.some((s) => s.kind === 3) && all }, 20_000)
  t.match(received[0], /^POST \/v1\/traces application\/json/)
  const byName = (name: string): OtlpSpan => trace.find((s) => s.name === name) as OtlpSpan
  t.equal(root.parentSpanId ?? '', '', 'the message is the root')
  t.match(root.attributes, [{ key: 'mailrun.door', value: { stringValue: 'mime' } }])
  for (const name of ['mailrun.store', 'mailrun.decide', 'mailrun.launch']) t.equal(byName(name)?.parentSpanId, root.spanId, `${name} is a child of the message`)
  t.equal(byName('mailrun.authenticate')?.parentSpanId, byName('mailrun.decide').spanId, 'authenticating is part of deciding')
  const orchestrator = trace.filter((s) => s.kind === 3)
  t.ok(orchestrator.length >= 1, 'the Orchestrator calls are client spans')
  const startJobs = orchestrator.find((s) => s.attributes?.some((a) => a.key === 'http.request.method' && a.value.stringValue === 'POST') && s.parentSpanId === byName('mailrun.launch').spanId)
  t.ok(startJobs, 'StartJobs is a client span inside the launch')
  t.match(startJobs?.attributes, [{ key: 'http.request.method' }, { key: 'server.address', value: { stringValue: '127.0.0.1' } }, { key: 'server.port' }, { key: 'http.response.status_code' }])
  const everything = JSON.stringify(spans)
  for (const secret of ['anna@sender.example', 'Anna Petrova', 'robots@acme.example', 'Monthly Report', 'period', '2026-11', 'traced-1']) t.notMatch(everything, secret, `no "${secret}" in any span`)
})
