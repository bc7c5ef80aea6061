import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Database } from '../db/schema.js'
import { duePeriod } from './digest-period.js'
import { summarize } from './digest-summary.js'

// Sends the digests that are due: a pass every minute looks at channels with a digest, and for each
// whose latest due period is not the one it last had, records that period and queues the digest in
// one transaction (the period is claimed by the update, so replicas and restarts send it once).

export function createDigestWatch (deps: { db: Kysely<Database>, logger: Logger }): { send: (now?: Date) => Promise<number> } {
  const { db } = deps
  return {
    async send (now = new Date()) {
      const channels = await db.selectFrom('notification_channels as c').innerJoin('tenants as t', 't.id', 'c.tenant_id')
        .select(['c.id', 'c.tenant_id', 'c.digest', 'c.digest_period', 't.time_zone']).where('c.digest', 'is not', null).execute()
      let sent = 0
      for (const channel of channels) {
        if (channel.digest === null) continue
        const period = duePeriod(channel.digest, now, channel.time_zone)
        if (channel.digest_period === period.key) continue
        const queued = await db.transaction().execute(async (trx) => {
          const claimed = await trx.updateTable('notification_channels').set({ digest_period: period.key })
            .where('id', '=', channel.id).where(sql<boolean>`digest_period is distinct from ${period.key}`).returning('id').executeTakeFirst()
          if (claimed === undefined) return false
          const summary = await summarize(trx, channel.tenant_id, channel.digest as 'daily' | 'weekly', period.start, period.end)
          await trx.insertInto('channel_deliveries').values({ channel_id: channel.id, tenant_id: channel.tenant_id, event_type: 'digest', data: JSON.stringify({ ...summary, timeZone: channel.time_zone }) }).execute()
          return true
        })
        if (queued) sent++
      }
      if (sent > 0) deps.logger.info({ digests: sent }, 'digests queued')
      return sent
    }
  }
}
