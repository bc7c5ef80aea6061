import { startOrchestratorSimulator } from '../src/simulator/orchestrator.js'
import { FLOW_STATUS, startDataverseStandIn } from '../src/simulator/dataverse.js'
import { startControlRoomStandIn } from '../src/simulator/control-room.js'
import { startHttpTargetReceiver } from '../tests/support/http-target-receiver.js'
import { buildMessage, signMessage } from '../tests/support/mail.js'
import { freshDatabase } from './support/targets.js'
import { COMMAND, LETTER, setUpTenant } from './support/tenant.js'
import { ADMIN_KEY, startMailrun, type Shared } from './push.js'

// The same email to a robot on each platform (#31): UiPath (the Orchestrator simulator), a signed
// HTTP target (a local receiver), Power Automate (the Dataverse stand-in, token endpoint
// included) and Automation Anywhere (the Control Room stand-in, sign-in included), mailrun as its
// own process on PostgreSQL. Timed: the door's answer (stored, decided, launched — the platform's
// start included), one email at a time; for the polled platforms also from the run's end to the
// launch completed (the poll at MAILRUN_JOB_POLL_INTERVAL_S=1).

export interface PlatformsPlan { emails: number, workDir: string }
export interface PlatformsReport { emails: number, platforms: Array<{ platform: string, launched: number, p50: number, p95: number, max: number, endToReplyMs?: number }> }

const FLOW = 'f091ffab-58bb-4630-a115-659453d56f59'
const MACHINE = 'shared-uiflow-bench'

function percentile (sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)] ?? 0
}

export async function benchPlatforms (plan: PlatformsPlan, shared: Shared, log: (line: string) => void): Promise<PlatformsReport> {
  const database = await freshDatabase('postgres')
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  const receiver = await startHttpTargetReceiver()
  const dv = await startDataverseStandIn()
  dv.apps.push({ tenant: 'bench.onmicrosoft.example', clientId: '11112222-3333-4444-5555-666677778888', secret: 'bench-app-secret' })
  dv.flows.add(FLOW)
  dv.connections.add(MACHINE)
  dv.runsPerMinute = 100_000
  const cr = await startControlRoomStandIn()
  cr.users.set('bench', { id: 1, apiKey: 'bench-api-key' })
  cr.bots.add(4217)
  cr.runners.add(31)
  const { service } = await startMailrun('postgres', { ...database.env, MAILRUN_JOB_POLL_INTERVAL_S: '1' }, shared, plan.workDir)
  const report: PlatformsReport = { emails: plan.emails, platforms: [] }
  try {
    const tenant = await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: sim.url, smtpPort: shared.smtpPort })
    const http = await tenant.api.call('POST', '/api/v1/connections', { name: 'Receiver', kind: 'http', url: `${receiver.url}/webhook/mailrun` })
    const flows = await tenant.api.call('POST', '/api/v1/connections', { name: 'Flows', kind: 'power_automate', environmentUrl: dv.url, tenantId: 'bench.onmicrosoft.example', clientId: '11112222-3333-4444-5555-666677778888', clientSecret: 'bench-app-secret', authority: dv.url })
    const catalogue = { parameters: [{ name: 'period', type: 'string', required: true }], functions: [{ name: 'ExtractData', parameters: [{ name: 'region', type: 'string', required: true }] }, { name: 'BuildReport' }, { name: 'SendReport', parameters: [{ name: 'to', type: 'string', required: true }] }] }
    await tenant.api.call('POST', '/api/v1/robots', { name: 'Sync Over HTTP', connectionId: http.id, senderIds: [tenant.senderId], ...catalogue })
    await tenant.api.call('POST', '/api/v1/robots', { name: 'Desktop Flow', connectionId: flows.id, powerAutomate: { flowId: FLOW, connectionName: MACHINE }, senderIds: [tenant.senderId], ...catalogue })
    const room = await tenant.api.call('POST', '/api/v1/connections', { name: 'Control Room', kind: 'automation_anywhere', controlRoomUrl: cr.url, username: 'bench', apiKey: 'bench-api-key' })
    await tenant.api.call('POST', '/api/v1/robots', { name: 'Bot', connectionId: room.id, automationAnywhere: { fileId: 4217, runAsUserIds: [31] }, senderIds: [tenant.senderId], ...catalogue })
    let n = 0
    const send = async (subject: string): Promise<{ ms: number, answer: Record<string, any> }> => {
      const raw = await signMessage(buildMessage({ from: LETTER.from, subject, body: COMMAND, messageId: `<platforms-${n++}-${Date.now()}@finance.example>` }), shared.key)
      const t0 = performance.now()
      const res = await fetch(tenant.mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw })
      const answer = await res.json() as Record<string, any>
      return { ms: performance.now() - t0, answer }
    }
    for (const [platform, subject] of [['UiPath (Orchestrator simulator)', LETTER.subject], ['HTTP target (local receiver)', 'Sync Over HTTP'], ['Power Automate (Dataverse stand-in)', 'Desktop Flow'], ['Automation Anywhere (Control Room stand-in)', 'Bot']] as const) {
      const times: number[] = []
      let launched = 0
      let last: Record<string, any> | null = null
      for (let i = 0; i < plan.emails; i++) {
        const { ms, answer } = await send(subject)
        times.push(ms)
        if (answer.launch?.state === 'launched') launched++
        last = answer
      }
      times.sort((a, b) => a - b)
      const row: PlatformsReport['platforms'][number] = { platform, launched, p50: Math.round(percentile(times, 50)), p95: Math.round(percentile(times, 95)), max: Math.round(times.at(-1) ?? 0) }
      const finish = subject === 'Desktop Flow'
        ? (runId: string) => { dv.finish(runId, FLOW_STATUS.succeeded, { outputs: { Posted: 1 } }) }
        : subject === 'Bot' ? (runId: string) => { cr.finish(runId, 'COMPLETED', { outputs: { Posted: { type: 'NUMBER', number: '1' } } }) } : null
      if (finish !== null && last?.launch?.jobKey !== undefined) {
        const before = await tenant.api.call('GET', `/api/v1/launches/${String(last.launch.id)}`)
        if (before.state === 'launched') {
          const ended = performance.now()
          finish(String(last.launch.jobKey))
          const until = Date.now() + 20_000
          while (Date.now() < until && (await tenant.api.call('GET', `/api/v1/launches/${String(last.launch.id)}`)).state !== 'completed') await new Promise((resolve) => setTimeout(resolve, 20))
          row.endToReplyMs = Math.round(performance.now() - ended)
        }
      }
      report.platforms.push(row)
      log(`${platform}: ${launched}/${plan.emails} launched, door answer p50 ${row.p50} ms, p95 ${row.p95} ms${row.endToReplyMs !== undefined ? `; run end → completed ${row.endToReplyMs} ms` : ''}`)
    }
    return report
  } finally {
    await service.stop()
    await sim.close()
    await receiver.close()
    await dv.close()
    await cr.close()
    await database.drop()
  }
}
