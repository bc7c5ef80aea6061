import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import nodemailer from 'nodemailer'
import t from 'tap'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { eventually } from '../support/launching.js'
import { setUpRemoteTenant, startMailrun } from '../support/mailrun-process.js'
import { freePort } from '../support/net.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'
import { needsPostfix, startPostfix } from '../support/postfix.js'

// Fault suite: a real Postfix in front of mailrun, delivering through the pipe recipe of docs/providers.md
// (bin/mailrun-deliver). Mail sent while mailrun is stopped is deferred, never bounced, and
// delivered once when mailrun is back.

t.test(`mail sent while mailrun is down is deferred by Postfix and delivered once when it returns, on ${testDatabaseKind}`, async (t) => {
  if (!needsPostfix(t)) return
  const env: Record<string, string> = { PORT: String(await freePort()) }
  if (testDatabaseKind === 'postgres') {
    env.DATABASE_URL = (await createTestDatabase(t, { migrate: false })).url ?? ''
  } else {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'mailrun-mta-'))
    t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
    env.MAILRUN_DATA_DIR = dataDir
  }
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  let mailrun = await startMailrun(t, env)
  const tenant = await setUpRemoteTenant(mailrun.url, sim)
  const postfix = await startPostfix(t, { domain: 'robots.test', mimeUrl: `${mailrun.url}/inbound/${tenant.ingressToken}/mime` })
  const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: postfix.port, secure: false, ignoreTLS: true })
  t.teardown(() => { smtp.close() })
  const send = async (n: number): Promise<void> => {
    await smtp.sendMail({ from: 'Anna Petrova <anna@sender.example>', to: 'robots@robots.test', subject: 'Monthly Report', text: 'period = 2026-11', messageId: `<mta-${n}@sender.example>` })
  }
  const count = (log: string, pattern: RegExp): number => log.split('\n').filter((line) => pattern.test(line)).length
  const messages = async (): Promise<Array<{ status: string }>> => {
    const res = await fetch(`${mailrun.url}/api/v1/messages?limit=100`, { headers: { authorization: `Bearer ${tenant.key}` } })
    return (await res.json() as { items: Array<{ status: string }> }).items
  }

  await send(0)
  await eventually(async () => count(await postfix.log(), /relay=mailrun.*status=sent/) === 1, 20_000)
  t.equal((await messages()).length, 1, 'with mailrun up, the pipe delivers')

  mailrun.child.kill('SIGTERM')
  await mailrun.exited
  for (let n = 1; n <= 5; n++) await send(n)
  const deferred = await eventually(async () => {
    const log = await postfix.log()
    const ids = new Set([...log.matchAll(/postfix\/pipe\[\d+\]: (\w+): .*status=deferred/g)].map((m) => m[1]))
    return ids.size === 5 && log
  }, 30_000)
  t.match(deferred, /dsn=4\.3\.0, status=deferred \(temporary failure\. Command output: mailrun-deliver: mailrun is not reachable at .* \(ECONNREFUSED\); the MTA will try again/, 'deferred with mailrun-deliver\'s reason in the log')

  mailrun = await startMailrun(t, env)
  await postfix.flush()
  const log = await eventually(async () => {
    const text = await postfix.log()
    return count(text, /relay=mailrun.*status=sent/) === 6 && text
  }, 60_000)
  t.equal(count(log, /status=bounced/), 0, 'nothing bounced')
  t.match(log, /relay=mailrun, .*status=sent \(delivered via mailrun service \(mailrun-deliver: stored by mailrun as accepted/, 'the log says what mailrun decided')
  const stored = await messages()
  t.equal(stored.length, 6, 'each message stored once')
  t.ok(stored.every((m) => m.status === 'accepted'), 'and accepted')
  await eventually(async () => sim.jobs.length === 6, 20_000)
  t.equal(new Set(sim.jobs.map((j) => j.Reference)).size, 6, 'one job each')
  t.comment(`figures: sent 6 / acknowledged 6 / stored ${stored.length} / launched ${sim.jobs.length} / jobs ${sim.jobs.length} / duplicates 0 / lost ${6 - stored.length}; deferrals while down: ${count(log, /status=deferred/)}; bounces: ${count(log, /status=bounced/)}`)
})
