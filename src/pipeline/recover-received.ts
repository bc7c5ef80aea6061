import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Database } from '../db/schema.js'
import type { Receiver } from './receive.js'
import { dueUndecided } from './undecided.js'

/**
 * Decides the messages that were stored but never decided: the process stopped between the two,
 * or deciding failed (a database hiccup, a message nobody foresaw). Stored first, so nothing is
 * lost; decided here, late. Each message has its own backoff and a last attempt (undecided.ts),
 * so one that always fails cannot block the others. Answers how many it finished.
 */
export async function recoverReceived (db: Kysely<Database>, receiver: Receiver, logger: Logger, limit = 100): Promise<number> {
  let done = 0
  const strandedHere = receiver.stranded()
  const due = await dueUndecided(db, limit, strandedHere)
  // Stranded here but decided after all (the decision's answer was lost to the database going
  // away): processStored hands its launch to the queue at once and lets it go (or a deleted one).
  for (const id of strandedHere.slice(0, limit)) {
    if (!due.includes(id)) await receiver.processStored(id).catch((error: unknown) => { logger.warn({ err: error, messageId: id }, 'could not look at a stranded message yet; will try again') })
  }
  for (const id of due) {
    try {
      const result = await receiver.processStored(id)
      logger.info({ messageId: id, status: result.status }, 'recovered a message stored before a stop')
      done++
    } catch (error) {
      const outcome = await receiver.noteFailure(id, error).catch(() => 'unrecorded')
      if (outcome === 'failed') logger.error({ err: error, messageId: id }, 'gave up on a stored message that could not be processed; it is marked failed with the error')
      else logger.warn({ err: error, messageId: id }, 'could not finish a stored message; will try again')
    }
  }
  return done
}
