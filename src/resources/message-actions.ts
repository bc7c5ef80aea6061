import { sql } from 'kysely'
import { errors } from '../errors.js'
import type { ReceiveResult } from '../pipeline/receive.js'
import type { ResourceDeps } from './context.js'

// Replaying a message that was refused (or could not be processed): it is decided again, as if it
// had just arrived, under today's senders, robots and settings — the usual fix for "refused before
// the sender was added". It launches at most once: only a refused or failed message with no launch
// is reopened, by one conditional update, so two replays at once make one decision.

export interface Decider { processStored: (messageId: string) => Promise<ReceiveResult> }

export function messageActionsResource (deps: ResourceDeps & { decider: Decider, replayHours: number }) {
  const { db } = deps
  const refuse = (code: string, message: string): Error => Object.assign(new errors.Conflict(message), { messageAction: code })

  return {
    /** Whether a replay would be taken now (the console shows the button only then). */
    async replayable (tenantId: string, id: string): Promise<boolean> {
      const row = await db.selectFrom('messages').select('id').where('tenant_id', '=', tenantId).where('id', '=', id)
        .where('status', 'in', ['rejected', 'failed']).where('raw', 'is not', null)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('launches').select('launches.id').where('launches.message_id', '=', id))))
        .executeTakeFirst()
      return row !== undefined
    },

    async replay (tenantId: string, id: string, who: string): Promise<ReceiveResult> {
      const row = await db.selectFrom('messages').select(['id', 'status', 'raw', 'auth_verdict', 'door'])
        .select((eb) => eb.exists(eb.selectFrom('launches').select('launches.id').whereRef('launches.message_id', '=', 'messages.id')).as('launched'))
        .where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (row === undefined) throw new errors.NotFound(`no message ${id}`)
      if (row.launched === true) throw refuse('launched', 'this message has already launched its robot: it is not decided again (retry the launch instead, if it failed)')
      if (row.status !== 'rejected' && row.status !== 'failed') throw Object.assign(refuse('status', `only a message that was rejected or failed can be replayed; this one is ${row.status}`), { status: row.status })
      if (row.raw === null) throw refuse('gone', `the message's content is no longer kept (refused messages are kept ${deps.replayHours} hours for a replay, MAILRUN_REPLAY_HOURS): ask the sender to send it again`)
      const verdict = row.auth_verdict as { pass?: boolean } | null
      // What the decision needs to know about how the message came in; a verdict that passed then is kept.
      const context = { rawIsOriginal: row.door !== 'mailgun' && row.door !== 'sendgrid', replayOf: verdict?.pass === true ? verdict : null, replayedBy: who }
      const reopened = await db.updateTable('messages').set({
        status: 'received', reason: null, problems: '[]', auth_verdict: JSON.stringify(context), decide_attempts: 0, next_decide_at: sql<Date>`now() + interval '30 seconds'`, processed_at: null
      }).where('id', '=', id).where('status', 'in', ['rejected', 'failed']).where('raw', 'is not', null)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('launches').select('launches.id').where('launches.message_id', '=', id))))
        .executeTakeFirst()
      if (Number(reopened.numUpdatedRows) === 0) throw refuse('changed', 'the message changed meanwhile (another replay?): reload it')
      const result = await deps.decider.processStored(id)
      // Who replayed it, in the launch's history (the audit trail has it too).
      if (result.launch !== undefined) await db.insertInto('launch_events').values({ launch_id: result.launch.id, state: result.launch.state, detail: `replayed by ${who}` }).execute()
      return result
    }
  }
}

export type MessageActionsResource = ReturnType<typeof messageActionsResource>
