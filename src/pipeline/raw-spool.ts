import { randomUUID } from 'node:crypto'
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

// Where a large message's raw bytes wait for their decision on the embedded database: one file
// per message in MAILRUN_DATA_DIR/spool, written and synced before the row that names it is
// inserted (store first still holds: a crash after the insert finds the file), removed once the
// message is decided. PostgreSQL keeps them in the row, where every replica can reach them.

/** Messages at least this large are spooled; smaller ones stay in the row (one write, no file). */
export const SPOOL_MIN_BYTES = 256 * 1024

export interface RawSpool {
  /** Writes and syncs the bytes; answers the file's name, for the row. */
  write: (raw: Buffer) => Promise<string>
  read: (name: string) => Promise<Buffer>
  remove: (name: string) => Promise<void>
  /** Removes files no undecided message names (left by a crash between write and insert, or after a decision). */
  sweep: (db: Kysely<Database>, olderThanMs?: number) => Promise<number>
}

const NAME = /^[0-9a-f-]{36}\.eml$/

export function createRawSpool (dir: string): RawSpool {
  const file = (name: string): string => {
    if (!NAME.test(name)) throw new Error(`not a spool file name: ${name}`)
    return path.join(dir, name)
  }
  let ready: Promise<unknown> | null = null
  return {
    async write (raw) {
      ready ??= mkdir(dir, { recursive: true, mode: 0o700 })
      await ready
      const name = `${randomUUID()}.eml`
      const handle = await open(file(name), 'wx', 0o600)
      try {
        await handle.writeFile(raw)
        await handle.sync()
      } finally {
        await handle.close()
      }
      return name
    },
    async read (name) { return await readFile(file(name)) },
    async remove (name) { await rm(file(name), { force: true }) },
    async sweep (db, olderThanMs = 10 * 60_000) {
      const names = await readdir(dir).catch(() => [] as string[])
      let removed = 0
      for (const name of names.filter((n) => NAME.test(n))) {
        const info = await stat(file(name)).catch(() => null)
        if (info === null || Date.now() - info.mtimeMs < olderThanMs) continue
        // Named by any message: an undecided one, or a decided one whose launch still uploads its attachments.
        const named = await db.selectFrom('messages').select('id').where('raw_spool', '=', name).executeTakeFirst()
        if (named === undefined) { await rm(file(name), { force: true }); removed++ }
      }
      return removed
    }
  }
}
