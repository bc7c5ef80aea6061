import { sql } from 'kysely'
import t from 'tap'
import { claimDueRuns } from '../../src/launch/target-runs.js'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { insertMailbox, insertTenant } from '../support/fixtures.js'

// The claim of due runs on other platforms runs every quarter second while a launch is young. It
// must read the runs it may claim, not every running UiPath job beside them: a tenant with
// thousands of jobs running would otherwise pay for each of them at every pass.

interface PlanNode { 'Node Type': string, 'Relation Name'?: string, 'Actual Rows'?: number, 'Actual Loops'?: number, 'Rows Removed by Filter'?: number, 'Rows Removed by Index Recheck'?: number, Plans?: PlanNode[] }

/** Rows of `launches` the plan's scans read, kept or filtered out. */
function launchRowsRead (node: PlanNode): number {
  const own = node['Relation Name'] === 'launches' && /Scan/.test(node['Node Type'])
    ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1)
    : 0
  return own + (node.Plans ?? []).reduce((sum, child) => sum + launchRowsRead(child), 0)
}

t.test(`on ${testDatabaseKind}, a pass over platform runs reads them, not the running UiPath jobs`, async (t) => {
  const { db } = await createTestDatabase(t)
  const tenantId = await insertTenant(db)
  const mailboxId = await insertMailbox(db, tenantId)
  const connection = await db.insertInto('connections').values({ tenant_id: tenantId, name: 'runner', kind: 'http', url_enc: 'sealed', url_hint: 'https://runner.example/…', secret_enc: 'sealed' }).returning('id').executeTakeFirstOrThrow()
  // 2,000 UiPath jobs running (no connection of the new kinds), and three HTTP-target runs, one due.
  await sql`insert into messages (tenant_id, mailbox_id, door, dedupe_key, raw_sha256, size_bytes, status)
    select ${tenantId}, ${mailboxId}, 'mime', 'm' || n, 'x', 1, 'accepted' from generate_series(1, 2003) as n`.execute(db)
  await sql`insert into launches (tenant_id, message_id, plan, state, job_id, launched_at, next_attempt_at)
    select ${tenantId}, id, '{}', 'launched', row_number() over (), now(), now() - interval '1 second' from messages where dedupe_key <> all (array['m2001', 'm2002', 'm2003'])`.execute(db)
  await sql`insert into launches (tenant_id, message_id, plan, state, connection_id, status_url_enc, launched_at, next_attempt_at)
    select ${tenantId}, id, '{}', 'launched', ${connection.id}, 'sealed', now(), case when dedupe_key = 'm2001' then now() - interval '1 second' else now() + interval '1 minute' end
    from messages where dedupe_key in ('m2001', 'm2002', 'm2003')`.execute(db)
  await sql`analyze launches`.execute(db)

  const claim = claimDueRuns(db, 15_000, 100).compile()
  await sql`begin`.execute(db)
  try {
    const explained = await db.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({ ...claim, sql: `explain (analyze, format json) ${claim.sql}` })
    const plan = explained.rows[0]?.['QUERY PLAN'][0]?.Plan
    if (plan === undefined) throw new Error('no plan')
    t.ok(launchRowsRead(plan) <= 10, `launch rows read: ${launchRowsRead(plan)} (the platform runs only)`)
  } finally {
    await sql`rollback`.execute(db)
  }
  const claimed = await claimDueRuns(db, 15_000, 100).execute()
  t.equal(claimed.length, 1, 'the one due run is claimed')
  t.equal(claimed[0]?.connection_id, connection.id)
})
