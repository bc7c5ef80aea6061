import { sql, type Kysely } from 'kysely'
import type { Database, LaunchState } from '../db/schema.js'
import type { NewLaunch } from './launcher.js'

/** A launch inserted already taken by the process that attempts it at once (Launcher.decideAndLaunch). */
export interface LaunchClaim { token: string, claimMs: number }

/**
 * A message's accepted decision and the launch it makes, as the CTEs of one statement: `messages`
 * (the message, decided only while still "received", so two deciders record one outcome),
 * `launches` (its launch: pending, or taken with `claim`), `launch_rows` (a spreadsheet's rows,
 * which travel as one JSON parameter: 10,000 of them are one value, not 40,000 placeholders) and
 * `launch_events` (the first history line). Each CTE answers every column of what it wrote, under
 * the table's own name, so what follows reads the rows as the statement leaves them. The door's
 * direct path (claimed) and the transaction path that writes files or a reply with it (pending)
 * write the same rows.
 */
export function writeDecidedLaunch (db: Kysely<Database>, decision: NewLaunch, claim: LaunchClaim | null) {
  const { launch, rows } = decision
  return db
    .with('messages', (qb) => qb.updateTable('messages').set(decision.message).where('id', '=', decision.messageId).where('status', '=', 'received').returningAll())
    .with('launches', (qb) => qb.insertInto('launches').columns(['tenant_id', 'message_id', 'robot_id', 'sender_id', 'plan', 'state', 'attempts', 'locked_until', 'claim_token', 'next_attempt_at'])
      .expression((eb) => eb.selectFrom('messages').select([
        sql<string>`${launch.tenantId}::uuid`.as('tenant_id'),
        'messages.id as message_id',
        sql<string | null>`${launch.robotId}::uuid`.as('robot_id'),
        sql<string | null>`${launch.senderId}::uuid`.as('sender_id'),
        sql<string>`${launch.plan}::jsonb`.as('plan'),
        sql<LaunchState>`${claim === null ? 'pending' : 'launching'}::text`.as('state'),
        sql<number>`${claim === null ? 0 : 1}::integer`.as('attempts'),
        (claim === null ? sql<Date | null>`null::timestamptz` : sql<Date | null>`now() + ${`${claim.claimMs} milliseconds`}::interval`).as('locked_until'),
        sql<string | null>`${claim?.token ?? null}::uuid`.as('claim_token'),
        sql<Date>`${launch.nextAttemptAt}::timestamptz`.as('next_attempt_at')
      ])).returningAll())
    .with('launch_rows', (qb) => qb.insertInto('launch_rows').columns(['launch_id', 'tenant_id', 'items', 'item_count', 'skipped'])
      .expression((eb) => eb.selectFrom('launches').select([
        'launches.id',
        'launches.tenant_id',
        sql<string>`${JSON.stringify(rows?.items ?? [])}::jsonb`.as('items'),
        sql<number>`${rows?.items.length ?? 0}::integer`.as('item_count'),
        sql<string>`${JSON.stringify(rows?.skipped ?? { rows: 0, problems: [] })}::jsonb`.as('skipped')
      ]).where(sql<boolean>`${rows !== undefined}`)).returning('launch_id'))
    .with('launch_events', (qb) => qb.insertInto('launch_events').columns(['launch_id', 'state', 'detail'])
      .expression((eb) => eb.selectFrom('launches').select(['launches.id', sql<string>`'pending'`.as('state'), sql<string>`'command accepted'`.as('detail')])).returning('launch_id'))
}
