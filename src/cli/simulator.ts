import { startControlRoomStandIn, type ControlRoomStandIn } from '../simulator/control-room.js'
import { FLOW_STATUS, startDataverseStandIn, type DataverseStandIn } from '../simulator/dataverse.js'
import { startSmtpCatcher } from '../simulator/mail-catcher.js'
import { startOrchestratorSimulator } from '../simulator/orchestrator.js'
import { CommandError } from './database.js'

export type SimulatedPlatform = 'power-automate' | 'automation-anywhere'
export interface SimulatorArgs { port: number, smtpPort: number, processes: string[], finishAfterS: number, platforms: SimulatedPlatform[] }

const PLATFORMS = new Set<string>(['power-automate', 'automation-anywhere'])

function portOf (value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CommandError(`${flag} must be a port number (0–65535), not "${value}"`)
  return port
}

export function simulatorArgs (values: { port?: string | undefined, 'smtp-port'?: string | undefined, process?: string[] | undefined, 'finish-after'?: string | undefined, platform?: string[] | undefined }): SimulatorArgs {
  const finishAfterS = values['finish-after'] === undefined ? 10 : Number(values['finish-after'])
  if (!Number.isFinite(finishAfterS) || finishAfterS < 0) throw new CommandError(`--finish-after must be a number of seconds, not "${String(values['finish-after'])}"`)
  for (const platform of values.platform ?? []) {
    if (!PLATFORMS.has(platform)) throw new CommandError(`--platform must be power-automate or automation-anywhere, not "${platform}"`)
  }
  return {
    platforms: [...new Set(values.platform ?? [])] as SimulatedPlatform[],
    port: portOf(values.port, 8900, '--port'),
    smtpPort: portOf(values['smtp-port'], 2525, '--smtp-port'),
    processes: values.process !== undefined && values.process.length > 0 ? values.process : ['MonthlyReport'],
    finishAfterS
  }
}

const indent = (text: string): string => text.split('\n').map((line) => `    ${line}`).join('\n')

// What the platform stand-ins know, so that the connection and robot printed for them work as they are.
const DEMO_APP = { tenant: 'acme.onmicrosoft.example', clientId: '11112222-3333-4444-5555-666677778888', secret: 'sim-app-secret' }
const DEMO_FLOW = 'f091ffab-58bb-4630-a115-659453d56f59'
const DEMO_MACHINE = 'shared-uiflow-simulator'
const DEMO_USER = { name: 'mailrun-sim', id: 12, apiKey: 'sim-api-key' }
const DEMO_BOT = 4217
const DEMO_RUNNER = 31

export interface RunningSimulator {
  /** What it prints when it starts: where each part listens and how to point a tenant at it. */
  text: string
  /** What happened since the last call, as lines to print. */
  news: () => string
  close: () => Promise<void>
}

/**
 * The stand-ins of `mailrun simulator`, started: the Orchestrator simulator, a mail catcher and,
 * with --platform, a Dataverse (Power Automate) and a Control Room (Automation Anywhere) stand-in
 * whose runs succeed --finish-after seconds after they start. Each says what it is: a stand-in.
 */
export async function openSimulator (args: SimulatorArgs): Promise<RunningSimulator> {
  const opened: Array<{ close: () => Promise<void> }> = []
  const listening = async <T extends { close: () => Promise<void> }>(what: string, port: number, flag: string, open: () => Promise<T>): Promise<T> => {
    try {
      const part = await open()
      opened.push(part)
      return part
    } catch (error) {
      for (const part of opened) await part.close()
      throw new CommandError(`cannot listen for the ${what} on 127.0.0.1:${port}: ${(error as Error).message}. Choose another port (${flag}).`)
    }
  }
  const sim = await listening('Orchestrator simulator', args.port, '--port', async () => await startOrchestratorSimulator({
    port: args.port,
    processes: args.processes,
    autoFinishMs: args.finishAfterS * 1000,
    autoFinish: { state: 'Successful', output: { out_Result: 'done (by the Orchestrator simulator)' } }
  }))
  const smtp = await listening('mail catcher', args.smtpPort, '--smtp-port', async () => await startSmtpCatcher({ port: args.smtpPort }))
  const freePort = (offset: number): number => args.port === 0 ? 0 : args.port + offset
  let dv: DataverseStandIn | null = null
  let cr: ControlRoomStandIn | null = null
  if (args.platforms.includes('power-automate')) {
    dv = await listening('Dataverse stand-in', freePort(1), '--port', async () => await startDataverseStandIn({ port: freePort(1) }))
    dv.apps.push(DEMO_APP)
    dv.flows.add(DEMO_FLOW)
    dv.connections.add(DEMO_MACHINE)
  }
  if (args.platforms.includes('automation-anywhere')) {
    cr = await listening('Control Room stand-in', freePort(2), '--port', async () => await startControlRoomStandIn({ port: freePort(2) }))
    cr.users.set(DEMO_USER.name, { id: DEMO_USER.id, apiKey: DEMO_USER.apiKey })
    cr.bots.add(DEMO_BOT)
    cr.runners.add(DEMO_RUNNER)
  }
  const connection = { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance' }
  const curl = (path: string, body: unknown): string => indent(`curl -s -X ${path === '/api/v1/orchestrator' ? 'PUT' : 'POST'} $URL${path} -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \\\n  -d '${JSON.stringify(body)}'`)
  const platformLines: string[] = []
  if (dv !== null) {
    platformLines.push(
      `Dataverse stand-in (a local stand-in for a Power Automate environment: token endpoint, RunDesktopFlow, flowsessions; not Microsoft): ${dv.url}`,
      `  desktop flow ${DEMO_FLOW} on connection ${DEMO_MACHINE}; every run succeeds ${args.finishAfterS} s after it starts. Connect it, then give a robot its flow:`,
      '',
      curl('/api/v1/connections', { name: 'Desktop flows (stand-in)', kind: 'power_automate', environmentUrl: dv.url, tenantId: DEMO_APP.tenant, clientId: DEMO_APP.clientId, clientSecret: DEMO_APP.secret, authority: dv.url }),
      indent(`# then on a robot: "connectionId": "<its id>", "powerAutomate": {"flowId": "${DEMO_FLOW}", "connectionName": "${DEMO_MACHINE}"}`),
      ''
    )
  }
  if (cr !== null) {
    platformLines.push(
      `Control Room stand-in (a local stand-in for an Automation Anywhere Control Room: authentication, deploy, activity; not Automation Anywhere): ${cr.url}`,
      `  bot ${DEMO_BOT}, run-as user ${DEMO_RUNNER}; every run completes ${args.finishAfterS} s after it starts. Connect it, then give a robot its bot:`,
      '',
      curl('/api/v1/connections', { name: 'Control Room (stand-in)', kind: 'automation_anywhere', controlRoomUrl: cr.url, username: DEMO_USER.name, apiKey: DEMO_USER.apiKey }),
      indent(`# then on a robot: "connectionId": "<its id>", "automationAnywhere": {"fileId": ${DEMO_BOT}, "runAsUserIds": [${DEMO_RUNNER}]}`),
      ''
    )
  }
  const text = [
    `Orchestrator simulator (a local stand-in that follows the Orchestrator API; not UiPath): ${sim.url}`,
    `  folders ${sim.folders.map((f) => f.FullyQualifiedName).join(', ')}; processes ${args.processes.join(', ')}; every job finishes ${args.finishAfterS} s after it starts; what it received: ${sim.url}/simulator/jobs`,
    `Mail catcher (SMTP, no authentication): 127.0.0.1:${smtp.port} — every email sent to it is printed here.`,
    ...platformLines.length > 0 ? ['', ...platformLines] : [''],
    `${platformLines.length > 0 ? 'All are' : 'Both are'} on this machine, which mailrun refuses to reach by default. Start mailrun with:`,
    '',
    indent(`MAILRUN_OUTBOUND_ALLOW=127.0.0.1 MAILRUN_SMTP_URL=smtp://127.0.0.1:${smtp.port} npm start`),
    '',
    'and connect a tenant to the simulator ($URL is mailrun, $KEY a tenant key):',
    '',
    curl('/api/v1/orchestrator', connection),
    '',
    'Ctrl-C stops it.',
    '',
    ''
  ].join('\n')

  // What happens is read by polling, so the stand-ins themselves stay free of output; runs on the
  // platform stand-ins end here too, --finish-after seconds after they started.
  const seen = new Map<string, string>()
  let printed = 0
  const news = (): string => {
    const lines: string[] = []
    for (const job of sim.jobs) {
      if (seen.get(`job ${job.Id}`) === job.State) continue
      seen.set(`job ${job.Id}`, job.State)
      lines.push(job.State === 'Pending'
        ? `[simulator] job ${job.Id} started: process ${job.ReleaseName}, Reference ${job.Reference ?? '-'}\n${indent(`InputArguments ${job.InputArguments ?? '{}'}`)}\n`
        : `[simulator] job ${job.Id} ${job.State}\n`)
    }
    const due = Date.now() - args.finishAfterS * 1000
    for (const session of dv?.sessions.values() ?? []) {
      const key = `flow ${session.flowsessionid}`
      if (!seen.has(key)) {
        lines.push(`[Dataverse stand-in] desktop flow run ${session.flowsessionid} started\n${indent(`inputs ${session.inputs}`)}\n`)
        seen.set(key, String(session.statuscode))
      }
      if (session.statuscode === FLOW_STATUS.running && Date.parse(session.createdon) <= due) dv?.finish(session.flowsessionid, FLOW_STATUS.succeeded, { outputs: { Result: 'done (by the Dataverse stand-in)' } })
      if (seen.get(key) !== String(session.statuscode)) lines.push(`[Dataverse stand-in] desktop flow run ${session.flowsessionid} status ${session.statuscode}\n`)
      seen.set(key, String(session.statuscode))
    }
    for (const activity of cr?.activities.values() ?? []) {
      const key = `bot ${activity.id}`
      if (!seen.has(key)) {
        lines.push(`[Control Room stand-in] bot ${activity.fileId} deployed: ${activity.deploymentId}\n${indent(`botInput ${JSON.stringify(activity.botInput)}`)}\n`)
        seen.set(key, activity.status)
      }
      if (activity.status === 'RUNNING' && Date.parse(activity.startDateTime) <= due) cr?.finish(activity.deploymentId, 'COMPLETED', { outputs: { Result: { type: 'STRING', string: 'done (by the Control Room stand-in)' } } })
      if (seen.get(key) !== activity.status) lines.push(`[Control Room stand-in] deployment ${activity.deploymentId} ${activity.status}\n`)
      seen.set(key, activity.status)
    }
    for (; printed < smtp.received.length; printed++) {
      const mail = smtp.received[printed]
      if (mail === undefined) break
      lines.push(`[mail catcher] email to ${mail.to.join(', ')}\n${indent(`From: ${mail.mail.from?.text ?? ''}\nSubject: ${mail.mail.subject ?? ''}\n\n${(mail.mail.text ?? '').trimEnd()}`)}\n\n`)
    }
    return lines.join('')
  }
  return {
    text,
    news,
    close: async () => { for (const part of opened) await part.close() }
  }
}

/**
 * `mailrun simulator`: the stand-ins on their own, so that a newcomer can point a tenant at them and
 * see a whole run — the job started, the replies sent — without an Orchestrator or a mail server.
 */
export async function simulator (args: SimulatorArgs): Promise<number> {
  const running = await openSimulator(args)
  process.stdout.write(running.text)
  const watch = setInterval(() => { process.stdout.write(running.news()) }, 200)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  clearInterval(watch)
  await running.close()
  return 0
}
