import type { TargetConnection } from '../targets/open-target.js'
import type { Platform } from '../targets/platforms.js'
import { sql } from 'kysely'
import { errors } from '../errors.js'
import { cancelLaunchById, type CancelOutcome } from '../launch/cancel-launch.js'
import type { Launcher, LaunchOutcome } from '../pipeline/launcher.js'
import type { ResourceDeps } from './context.js'

// What a tenant admin does to a launch from the API or the console: cancel it (or stop its job)
// exactly as a CANCEL email would, and retry one that gave up — under the same exactly-once rules
// as every attempt: the retry looks its job up by Reference before it starts anything.

const notFound = (id: string): Error => new errors.NotFound(`no launch ${id}`)

export function launchActionsResource (deps: ResourceDeps & { launcher: Launcher, platforms: Record<TargetConnection['kind'], Platform> }) {
  const { db } = deps

  async function assertInTenant (tenantId: string, id: string): Promise<{ state: string }> {
    const row = await db.selectFrom('launches').select(['id', 'state']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (row === undefined) throw notFound(id)
    return row
  }

  return {
    /** Cancels a launch not started yet, stops (or kills) its job, or deletes its waiting queue items. */
    async cancel (tenantId: string, id: string, who: string, kill: boolean): Promise<CancelOutcome> {
      await assertInTenant(tenantId, id)
      const outcome = await cancelLaunchById({ db, secrets: deps.secrets, orchestrator: deps.orchestrator, platforms: deps.platforms }, { tenantId, launchId: id, who, kill })
      if (outcome.outcome === 'ended') throw Object.assign(new errors.Conflict(`the launch has already ended (${outcome.state}): there is nothing to cancel`), { launchAction: 'ended', state: outcome.state })
      if (outcome.outcome === 'not_stoppable') throw Object.assign(new errors.Conflict('this launch runs where mailrun cannot stop it (an HTTP target, or work items in an Automation Anywhere queue): stop it there'), { launchAction: 'not_stoppable' })
      if (outcome.outcome === 'starting') throw Object.assign(new errors.Conflict('the launch is starting right now: try again in a few seconds, when its job can be stopped'), { launchAction: 'starting' })
      return outcome
    },

    /**
     * A launch that ended `failed` gets another attempt: pending again with a fresh budget, and —
     * because attempts > 1 — its job (or queue item) is looked up by Reference before anything is
     * started. Any other state is a 409.
     */
    async retry (tenantId: string, id: string, who: string): Promise<LaunchOutcome> {
      const current = await assertInTenant(tenantId, id)
      if (current.state !== 'failed') throw Object.assign(new errors.Conflict(`only a launch that ended failed can be retried; this one is ${current.state}`), { launchAction: 'not_failed', state: current.state })
      // Attachments are uploaded from the message's raw copy, which a launch that gave up let go.
      const files = await db.selectFrom('launch_files').innerJoin('launches', 'launches.id', 'launch_files.launch_id').innerJoin('messages', 'messages.id', 'launches.message_id')
        .select(['messages.raw', 'messages.raw_spool', 'messages.raw_chunks']).where('launch_files.launch_id', '=', id).executeTakeFirst()
      if (files !== undefined && files.raw === null && files.raw_spool === null && files.raw_chunks === null) {
        throw Object.assign(new errors.Conflict('the launch\'s attachments are no longer kept (a launch that gives up lets them go): ask the sender to send the email again'), { launchAction: 'no_attachments' })
      }
      const reopened = await db.transaction().execute(async (trx) => {
        const updated = await trx.updateTable('launches').set({
          state: 'pending', attempts: 1, last_error: null, error_code: null, trace_id: null, finished_at: null, locked_until: null, next_attempt_at: sql<Date>`now()`, updated_at: new Date()
        }).where('tenant_id', '=', tenantId).where('id', '=', id).where('state', '=', 'failed').executeTakeFirst()
        if (Number(updated.numUpdatedRows) === 0) return false
        await trx.insertInto('launch_events').values({ launch_id: id, state: 'pending', detail: `retried by ${who}` }).execute()
        return true
      })
      if (!reopened) throw Object.assign(new errors.Conflict('the launch changed meanwhile: reload it'), { launchAction: 'changed' })
      // As a door does: the attempt now, answered within the launch deadline; the queue finishes it otherwise.
      return await deps.launcher.launch(id)
    }
  }
}

export type LaunchActionsResource = ReturnType<typeof launchActionsResource>
