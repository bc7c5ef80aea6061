import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../db/schema.js'

// Where a large message's raw bytes wait for their decision when there is no spool directory
// (PostgreSQL; PGlite in memory): rows of 1 MiB in message_raw_chunks, inserted in the transaction
// that inserts the message, so store first holds as for a small message. One 36 MB parameter cost
// node-postgres two copies into its protocol buffers and a single socket write: over a second of
// blocked event loop and three times the message in memory. A chunk costs two 1 MiB copies, and
// the loop turns between chunks. Every replica can read them, which a local file would not allow.

export const CHUNK_BYTES = 1024 * 1024

export function chunkCount (size: number): number {
  return Math.ceil(size / CHUNK_BYTES)
}

/** Inserts the chunks; called inside the transaction that inserted the message row. */
export async function writeChunks (trx: Transaction<Database>, messageId: string, raw: Buffer): Promise<void> {
  for (let seq = 0; seq * CHUNK_BYTES < raw.length; seq++) {
    await trx.insertInto('message_raw_chunks')
      .values({ message_id: messageId, seq, bytes: raw.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES) })
      .execute()
  }
}

/** The raw bytes again, one chunk per query (a single result holding all of them would be read as hex text at twice the size). */
export async function readChunks (db: Kysely<Database>, messageId: string, count: number): Promise<Buffer> {
  const parts: Buffer[] = []
  for (let seq = 0; seq < count; seq++) {
    const row = await db.selectFrom('message_raw_chunks').select('bytes').where('message_id', '=', messageId).where('seq', '=', seq).executeTakeFirst()
    if (row === undefined) throw new Error(`chunk ${seq + 1} of ${count} of the stored message is missing`)
    parts.push(Buffer.from(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength))
  }
  return Buffer.concat(parts)
}

export async function dropChunks (db: Kysely<Database>, messageId: string): Promise<void> {
  await db.deleteFrom('message_raw_chunks').where('message_id', '=', messageId).execute()
}

/** Removes chunks of messages already decided (left by a stop between the decision and the clean-up). */
export async function sweepChunks (db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('message_raw_chunks')
    .where('message_id', 'in', (eb) => eb.selectFrom('messages').select('id').where('raw_chunks', 'is', null)
      .where('id', 'in', eb.selectFrom('message_raw_chunks').select('message_id')))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
