import { startSmtpCatcher } from '../simulator/mail-catcher.js'
import { startOrchestratorSimulator, type SimJob } from '../simulator/orchestrator.js'
import { CommandError } from './database.js'

export interface SimulatorArgs { port: number, smtpPort: number, processes: string[], finishAfterS: number }

function portOf (value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CommandError(`${flag} must be a port number (0–65535), not "${value}"`)
  return port
}

export function simulatorArgs (values: { port?: string | undefined, 'smtp-port'?: string | undefined, process?: string[] | undefined, 'finish-after'?: string | undefined }): SimulatorArgs {
  const finishAfterS = values['finish-after'] === undefined ? 10 : Number(values['finish-after'])
  if (!Number.isFinite(finishAfterS) || finishAfterS < 0) throw new CommandError(`--finish-after must be a number of seconds, not "${String(values['finish-after'])}"`)
  return {
    port: portOf(values.port, 8900, '--port'),
    smtpPort: portOf(values['smtp-port'], 2525, '--smtp-port'),
    processes: values.process !== undefined && values.process.length > 0 ? values.process : ['MonthlyReport'],
    finishAfterS
  }
}

const indent = (text: string): string => text.split('\n').map((line) => `    ${line}`).join('\n')

/**
 * `mailrun simulator`: the Orchestrator simulator and a mail catcher, on their own, so that a
 * newcomer can point a tenant at them and see a whole run — the job started, the replies sent —
 * without an Orchestrator or a mail server. It says what it is everywhere: a stand-in, not UiPath.
 */
export async function simulator (args: SimulatorArgs): Promise<number> {
  const listening = async <T>(what: string, port: number, open: () => Promise<T>): Promise<T> => {
    try {
      return await open()
    } catch (error) {
      throw new CommandError(`cannot listen for the ${what} on 127.0.0.1:${port}: ${(error as Error).message}. Choose another port (--${what === 'mail catcher' ? 'smtp-port' : 'port'}).`)
    }
  }
  const sim = await listening('Orchestrator simulator', args.port, async () => await startOrchestratorSimulator({
    port: args.port,
    processes: args.processes,
    autoFinishMs: args.finishAfterS * 1000,
    autoFinish: { state: 'Successful', output: { out_Result: 'done (by the Orchestrator simulator)' } }
  }))
  const smtp = await listening('mail catcher', args.smtpPort, async () => await startSmtpCatcher({ port: args.smtpPort }))
  const connection = { kind: 'cloud', url: sim.url, organization: 'acme', tenantName: 'DefaultTenant', authMode: 'client_credentials', clientId: 'sim-client', clientSecret: 'sim-secret', defaultFolder: 'Finance' }
  process.stdout.write([
    `Orchestrator simulator (a local stand-in that follows the Orchestrator API; not UiPath): ${sim.url}`,
    `  folders ${sim.folders.map((f) => f.FullyQualifiedName).join(', ')}; processes ${args.processes.join(', ')}; every job finishes ${args.finishAfterS} s after it starts; what it received: ${sim.url}/simulator/jobs`,
    `Mail catcher (SMTP, no authentication): 127.0.0.1:${smtp.port} — every email sent to it is printed here.`,
    '',
    'Both are on this machine, which mailrun refuses to reach by default. Start mailrun with:',
    '',
    indent(`MAILRUN_OUTBOUND_ALLOW=127.0.0.1 MAILRUN_SMTP_URL=smtp://127.0.0.1:${smtp.port} npm start`),
    '',
    'and connect a tenant to the simulator ($URL is mailrun, $KEY a tenant key):',
    '',
    indent(`curl -s -X PUT $URL/api/v1/orchestrator -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \\\n  -d '${JSON.stringify(connection)}'`),
    '',
    'Ctrl-C stops it.',
    '',
    ''
  ].join('\n'))

  // What happens is printed as it happens: polled, so the simulator itself stays free of output.
  const seen = new Map<number, SimJob['State']>()
  let printed = 0
  const watch = setInterval(() => {
    for (const job of sim.jobs) {
      if (seen.get(job.Id) === job.State) continue
      seen.set(job.Id, job.State)
      process.stdout.write(job.State === 'Pending'
        ? `[simulator] job ${job.Id} started: process ${job.ReleaseName}, Reference ${job.Reference ?? '-'}\n${indent(`InputArguments ${job.InputArguments ?? '{}'}`)}\n`
        : `[simulator] job ${job.Id} ${job.State}\n`)
    }
    for (; printed < smtp.received.length; printed++) {
      const mail = smtp.received[printed]
      if (mail === undefined) break
      process.stdout.write(`[mail catcher] email to ${mail.to.join(', ')}\n${indent(`From: ${mail.mail.from?.text ?? ''}\nSubject: ${mail.mail.subject ?? ''}\n\n${(mail.mail.text ?? '').trimEnd()}`)}\n\n`)
    }
  }, 200)

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  clearInterval(watch)
  await sim.close()
  await smtp.close()
  return 0
}
