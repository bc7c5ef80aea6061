import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { eventually } from '../support/launching.js'
import { postCommand, setUpRemoteTenant, startMailrun } from '../support/mailrun-process.js'
import { freePort } from '../support/net.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// Fault suite: whole processes — killed with SIGKILL in the middle of a launch, or two of them on
// one PostgreSQL taking the same mail. Every acknowledged message launches exactly once.

async function databaseEnv (t: Test): Promise<Record<string, string>> {
  if (testDatabaseKind === 'postgres') return { DATABASE_URL: (await createTestDatabase(t, { migrate: false })).url ?? '' }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mailrun-kill-'))
  t.teardown(async () => { await rm(dataDir, { recursive: true, force: true }) })
  return { MAILRUN_DATA_DIR: dataDir }
}

t.test(`kill -9 while StartJobs is in flight: after the restart each launch has exactly one job, on ${testDatabaseKind}`, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const env = { ...(await databaseEnv(t)), PORT: String(await freePort()), MAILRUN_LAUNCH_DEADLINE_MS: '300', MAILRUN_LAUNCH_CLAIM_MS: '2000', MAILRUN_LAUNCH_QUIET_MS: '6000' }
  const first = await startMailrun(t, env)
  const tenant = await setUpRemoteTenant(first.url, sim)

  // One start lands on the server after the process died; the other never reaches it.
  sim.delay(/StartJobs$/, 2_500)
  const landsLater = await postCommand(first.url, tenant.ingressToken, '<kill-lands@sender.example>')
  sim.drop(/StartJobs$/)
  const neverLands = await postCommand(first.url, tenant.ingressToken, '<kill-lost@sender.example>')
  t.equal(landsLater.status, 200)
  t.equal(neverLands.status, 200)
  t.match(landsLater.json.launch, { state: 'retrying' }, 'acknowledged while StartJobs was still in flight')
  first.child.kill('SIGKILL')
  await first.exited

  const second = await startMailrun(t, env)
  const launchIds = [landsLater.json.launch.id, neverLands.json.launch.id]
  const state = async (id: string): Promise<string> => {
    const res = await fetch(`${second.url}/api/v1/launches/${id}`, { headers: { authorization: `Bearer ${tenant.key}` } })
    return (await res.json() as { state: string }).state
  }
  // Polled gently: the admin API limits each key to MAILRUN_ADMIN_RATE_LIMIT requests a minute.
  await eventually(async () => {
    await new Promise((resolve) => setTimeout(resolve, 500))
    return (await Promise.all(launchIds.map(state))).every((s) => s === 'launched')
  }, 45_000)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const jobs = launchIds.map((id) => sim.jobs.filter((j) => j.Reference === id).length)
  t.same(jobs, [1, 1], 'one job each: the late one found by Reference, the lost one started once after the quiet period')
  t.equal(sim.jobs.length, 2)
  t.comment(`figures: sent 2 / acknowledged 2 / stored 2 / launched 2 / jobs ${sim.jobs.length} / duplicates ${jobs.filter((n) => n > 1).length} / lost 0`)
})

t.test('two mailrun processes on one PostgreSQL, the same mail delivered to both at once: each message launches once', { skip: testDatabaseKind !== 'postgres' && 'needs TEST_DATABASE_URL: several processes share only a PostgreSQL' }, async (t) => {
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const env = { ...(await databaseEnv(t)), MAILRUN_LAUNCH_DEADLINE_MS: '500', MAILRUN_LAUNCH_CLAIM_MS: '1500' }
  const [a, b] = await Promise.all([startMailrun(t, env), startMailrun(t, env)])
  if (a === undefined || b === undefined) throw new Error('two processes expected')
  const tenant = await setUpRemoteTenant(a.url, sim)
  // Every fifth start is slow, longer than the claim: the claim renewal must keep the other off.
  sim.delay(/StartJobs$/, 4_000, 8)
  const total = 40
  const acknowledged = new Set<string>()
  for (let i = 0; i < total; i += 4) {
    await Promise.all([0, 1, 2, 3].map(async (k) => {
      const id = `<race-${i + k}@sender.example>`
      const answers = await Promise.all([postCommand(a.url, tenant.ingressToken, id), postCommand(b.url, tenant.ingressToken, id)])
      if (answers.some((x) => x.status === 200)) acknowledged.add(id)
      const statuses = answers.map((x) => x.json?.status).sort()
      if (!(statuses[0] === 'accepted' && statuses[1] === 'duplicate')) throw new Error(`expected one accepted and one duplicate, got ${JSON.stringify(statuses)}`)
    }))
  }
  t.equal(acknowledged.size, total, 'every message acknowledged by both doors, one of them as a duplicate')
  await eventually(async () => sim.jobs.length >= total && new Set(sim.jobs.map((j) => j.Reference)).size === total, 60_000)
  await new Promise((resolve) => setTimeout(resolve, 5_000))
  const references = new Map<string, number>()
  for (const job of sim.jobs) references.set(job.Reference ?? '', (references.get(job.Reference ?? '') ?? 0) + 1)
  const duplicates = [...references.values()].filter((n) => n > 1).length
  t.equal(sim.jobs.length, total, 'one job per message')
  t.equal(duplicates, 0, 'no launch started twice by the two processes')
  t.equal(a.child.exitCode, null)
  t.equal(b.child.exitCode, null)
  t.comment(`figures: sent ${total} (each to both processes) / acknowledged ${acknowledged.size} / stored ${references.size} / launched ${references.size} / jobs ${sim.jobs.length} / duplicates ${duplicates} / lost ${total - references.size}`)
})
