import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { sql } from 'kysely'
import t from 'tap'
import { createTestDatabase, testDatabaseKind } from '../support/database.js'
import { insertMailbox, insertTenant } from '../support/fixtures.js'

// The dashboard's counters (activity_hourly) are kept by triggers: after any mix of inserts,
// status and state changes and deletes they must equal a count of the rows themselves.

const STATUSES = ['received', 'accepted', 'rejected', 'ignored', 'failed'] as const
const STATES = ['pending', 'launching', 'launched', 'completed', 'faulted', 'failed'] as const

type Op =
  | { op: 'insert', status: typeof STATUSES[number], hoursAgo: number, launch: typeof STATES[number] | null }
  | { op: 'status', pick: number, status: typeof STATUSES[number] }
  | { op: 'state', pick: number, state: typeof STATES[number] }
  | { op: 'delete', pick: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), status: fc.constantFrom(...STATUSES), hoursAgo: fc.integer({ min: 0, max: 200 }), launch: fc.option(fc.constantFrom(...STATES), { nil: null }) }),
  fc.record({ op: fc.constant('status' as const), pick: fc.nat(), status: fc.constantFrom(...STATUSES) }),
  fc.record({ op: fc.constant('state' as const), pick: fc.nat(), state: fc.constantFrom(...STATES) }),
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() })
)

t.test(`on ${testDatabaseKind}, the activity counters equal a count of the rows`, async (t) => {
  const { db } = await createTestDatabase(t)
  let run = 0
  const counted = async (tenantId: string) => {
    const fromCounters = await db.selectFrom('activity_hourly').select(['hour', 'kind', 'state', (eb) => eb.fn.sum<string>('n').as('n')])
      .where('tenant_id', '=', tenantId).groupBy(['hour', 'kind', 'state']).having((eb) => eb.fn.sum('n'), '<>', 0).execute()
    const fromRows = await sql<{ hour: Date, kind: string, state: string, n: string }>`
      select date_trunc('hour', received_at) as hour, 'message' as kind, status as state, count(*) as n from messages where tenant_id = ${tenantId} group by 1, 3
      union all
      select date_trunc('hour', created_at), 'launch', state, count(*) from launches where tenant_id = ${tenantId} group by 1, 3`.execute(db)
    const key = (r: { hour: Date, kind: string, state: string, n: string | number }): string => `${new Date(r.hour).toISOString()} ${r.kind} ${r.state} ${Number(r.n)}`
    return { counters: fromCounters.map(key).sort(), rows: fromRows.rows.map(key).sort() }
  }

  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
    const tenantId = await insertTenant(db, `T${run++}`)
    const mailboxId = await insertMailbox(db, tenantId)
    const ids: string[] = []
    for (const o of ops) {
      if (o.op === 'insert') {
        const key = `<m${ids.length}-${run}@x>`
        const at = new Date(Date.now() - o.hoursAgo * 3600_000)
        const row = await db.insertInto('messages').values({ tenant_id: tenantId, mailbox_id: mailboxId, door: 'mime', dedupe_key: key, raw_sha256: createHash('sha256').update(key).digest('hex'), size_bytes: 1, status: o.status, received_at: at })
          .returning('id').executeTakeFirstOrThrow()
        ids.push(row.id)
        if (o.launch !== null) await db.insertInto('launches').values({ tenant_id: tenantId, message_id: row.id, plan: '{}', state: o.launch, created_at: at }).execute()
      } else if (ids.length > 0) {
        const id = ids[o.pick % ids.length] ?? ''
        if (o.op === 'status') await db.updateTable('messages').set({ status: o.status }).where('id', '=', id).execute()
        if (o.op === 'state') await db.updateTable('launches').set({ state: o.state }).where('message_id', '=', id).execute()
        if (o.op === 'delete') await db.deleteFrom('messages').where('id', '=', id).execute()
      }
    }
    const { counters, rows } = await counted(tenantId)
    t.same(counters, rows)
    return JSON.stringify(counters) === JSON.stringify(rows)
  }), { numRuns: 12 })

  t.test('deleting a mailbox counts its messages down', async (t) => {
    const tenantId = await insertTenant(db, 'Gone')
    const mailboxId = await insertMailbox(db, tenantId)
    await db.insertInto('messages').values({ tenant_id: tenantId, mailbox_id: mailboxId, door: 'mime', dedupe_key: '<gone@x>', raw_sha256: 'a'.repeat(64), size_bytes: 1, status: 'accepted' }).execute()
    await db.deleteFrom('mailboxes').where('id', '=', mailboxId).execute()
    const { counters } = await counted(tenantId)
    t.same(counters, [], 'nothing left to count')
  })
})
