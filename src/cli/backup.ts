import { existsSync } from 'node:fs'
import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pendingMigrations } from '../db/migrate.js'
import { openDatabase } from '../db/database.js'
import { CommandError, configFrom, lockEmbedded } from './database.js'

// Backups of the embedded database: PGlite's own dump of its data directory (a gzipped tar), taken
// with mailrun stopped so the copy is consistent. PostgreSQL has pg_dump for that, which knows more
// than we would (roles, parallel dumps, point-in-time recovery with WAL archiving).

const POSTGRES_HINT = 'DATABASE_URL is set: back PostgreSQL up with its own tools — pg_dump -Fc "$DATABASE_URL" > mailrun.dump, restored with pg_restore --clean -d "$DATABASE_URL" mailrun.dump (docs/operating.md, "Backups")'

async function locked<T> (dataDir: string, work: () => Promise<T>): Promise<T> {
  const lock = await lockEmbedded(dataDir)
  try {
    return await work()
  } finally {
    await lock.release()
  }
}

const secretKeyNote = (dataDir: string): string => `The secret key that decrypts stored credentials is not in the file: keep ${path.resolve(dataDir, 'secret.key')} (or MAILRUN_SECRET_KEY) safe, apart from the backups.`

/** `mailrun backup <file>`: the embedded database, as one .tar.gz file. */
export async function backup (file: string | undefined): Promise<number> {
  if (file === undefined) throw new CommandError('say where to write the backup: mailrun backup <file.tar.gz>')
  const config = configFrom(process.env)
  if (config.databaseUrl !== undefined) throw new CommandError(POSTGRES_HINT)
  const pgdata = path.resolve(config.dataDir, 'pgdata')
  if (!existsSync(pgdata)) throw new CommandError(`there is no database in ${pgdata} to back up (MAILRUN_DATA_DIR=${config.dataDir})`)
  // Checked before the dump (seconds of work) as well as by the exclusive write after it.
  if (existsSync(file)) throw new CommandError(`${file} already exists: choose another name`)
  await locked(config.dataDir, async () => {
    const { PGlite } = await import('@electric-sql/pglite')
    const pglite = new PGlite(pgdata)
    try {
      // dumpDataDir before the instance is ready never settles.
      await pglite.waitReady
      const dump = await pglite.dumpDataDir('gzip')
      // 'wx': never overwrite an earlier backup by mistake.
      await writeFile(file, Buffer.from(await dump.arrayBuffer()), { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') throw new CommandError(`${file} already exists: choose another name`)
        throw new CommandError(`cannot write ${file}: ${error.message}`)
      })
    } finally {
      await pglite.close()
    }
  })
  const { size } = await stat(file)
  process.stdout.write(`wrote ${file} (${(size / 1048576).toFixed(1)} MB) from ${pgdata}\n${secretKeyNote(config.dataDir)}\n`)
  return 0
}

/** `mailrun restore <file> [--force]`: replaces the embedded database with a backup. */
export async function restore (file: string | undefined, force: boolean): Promise<number> {
  if (file === undefined) throw new CommandError('say which backup to restore: mailrun restore <file.tar.gz>')
  const config = configFrom(process.env)
  if (config.databaseUrl !== undefined) throw new CommandError(POSTGRES_HINT)
  let data: Buffer
  try {
    data = await readFile(file)
  } catch (error) {
    throw new CommandError(`cannot read ${file}: ${(error as Error).message}`)
  }
  const pgdata = path.resolve(config.dataDir, 'pgdata')
  let keptAside: string | null = null
  const messages = await locked(config.dataDir, async () => {
    if (existsSync(pgdata)) {
      if (!force) throw new CommandError(`${pgdata} already holds a database: add --force to replace it (it is kept aside, not deleted)`)
      keptAside = `${pgdata}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`
      await rename(pgdata, keptAside)
    }
    try {
      const { PGlite } = await import('@electric-sql/pglite')
      const pglite = new PGlite(pgdata, { loadDataDir: new Blob([data]) })
      await pglite.waitReady
      await pglite.close()
      // Opened again the way mailrun opens it, to prove the restored copy is a database mailrun can use.
      const database = await openDatabase({ kind: 'pglite', dataDir: config.dataDir })
      try {
        const pending = await pendingMigrations(database.db)
        const row = await database.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()
        return { count: Number(row?.n ?? 0), pending: pending.length }
      } finally {
        await database.close()
      }
    } catch (error) {
      // Leave things as they were: the database that was there comes back.
      const { rm } = await import('node:fs/promises')
      await rm(pgdata, { recursive: true, force: true })
      if (keptAside !== null) await rename(keptAside, pgdata)
      throw new CommandError(`${file} could not be restored (${(error as Error).message}); nothing was changed`)
    }
  })
  process.stdout.write([
    `restored ${file} into ${pgdata}: ${messages.count} messages${messages.pending > 0 ? `; ${messages.pending} migration(s) will be applied at the next start` : ''}`,
    ...(keptAside !== null ? [`the database that was there is kept in ${String(keptAside)} (delete it once the restored one is checked)`] : []),
    existsSync(path.resolve(config.dataDir, 'secret.key')) || config.secretKey !== undefined ? '' : `No secret key found: put the backed-up secret.key in ${path.resolve(config.dataDir)} (or set MAILRUN_SECRET_KEY) before starting, or stored credentials cannot be read.`,
    ''
  ].filter((line, i, all) => line !== '' || i === all.length - 1).join('\n'))
  return 0
}
