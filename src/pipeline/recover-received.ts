import { sql, type Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Database } from '../db/schema.js'
import type { Receiver } from './receive.js'

/**
 * Decides the messages that were stored but never decided: the process stopped between the two,
 * or deciding failed (a database hiccup). Stored first, so nothing is lost; decided here, late.
 * Answers how many it finished.
 */
export async function recoverReceived (db: Kysely<Database>, receiver: Receiver, logger: Logger, olderThanMs = 30_000): Promise<number> {
  const stuck = await db.selectFrom('messages').select('id').where('status', '=', 'received')
    .where('received_at', '<', sql<Date>`now() - ${`${olderThanMs} milliseconds`}::interval`)
    .orderBy('received_at').limit(100).execute()
  let done = 0
  for (const { id } of stuck) {
    try {
      const result = await receiver.processStored(id)
      logger.info({ messageId: id, status: result.status }, 'recovered a message stored before a stop')
      done++
    } catch (error) {
      logger.error({ err: error, messageId: id }, 'could not finish a stored message; will try again')
    }
  }
  return done
}
