import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { authenticateKey, ensureAdminKey } from '../../src/auth/api-keys.js'
import { lockDataDir } from '../../src/db/data-dir-lock.js'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
// @ts-expect-error: plain JavaScript without declarations (it runs before anything is compiled)
import { distIsFresh } from '../../bin/build-freshness.js'
import { runCli } from '../support/cli.js'
import { repoRoot } from '../support/process.js'
import { createTestDatabase, testDatabaseUrl } from '../support/database.js'

// The `mailrun` command's maintenance verbs, run as an operator runs them: a separate process on
// the database the suite runs on (a PostgreSQL database of its own, or an embedded data directory).

async function dataDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

type Db = Awaited<ReturnType<typeof openDatabase>>['db']

/** The environment that points the command at a fresh database, and a way to look into it between commands. */
async function commandDatabase (t: Test): Promise<{ env: Record<string, string>, withData: <T>(work: (db: Db) => Promise<T>) => Promise<T> }> {
  if (testDatabaseUrl !== undefined) {
    const database = await createTestDatabase(t, { migrate: false })
    return { env: { DATABASE_URL: database.url ?? '', MAILRUN_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }, withData: async (work) => await work(database.db) }
  }
  const dir = await dataDir(t)
  return {
    env: { MAILRUN_DATA_DIR: dir },
    async withData (work) {
      const database = await openDatabase({ kind: 'pglite', dataDir: dir })
      try {
        return await work(database.db)
      } finally {
        await database.close()
      }
    }
  }
}

/** Whether the command runs the compiled build (fresh) and the build made the embedded database's template. */
const cliHasTemplate = distIsFresh(repoRoot) && existsSync(path.join(repoRoot, 'dist', 'pglite-template.tar.gz'))

// One database for the file: migrate creates its schema, admin-key rotate then works on it (an
// embedded database's first creation costs seconds; doing it once keeps the file quick).
const shared = await commandDatabase(t)

t.test('help lists every command; an unknown one is refused in one line', async (t) => {
  const help = await runCli(['help'], {})
  t.equal(help.code, 0)
  for (const command of ['start', 'migrate', 'doctor', 'simulator', 'admin-key rotate', 'backup', 'restore']) t.match(help.stdout, `  ${command}`)
  const bad = await runCli(['frobnicate'], {})
  t.equal(bad.code, 1)
  t.equal(bad.stderr, 'mailrun frobnicate: unknown command "frobnicate"; `mailrun help` lists them\n')
  const option = await runCli(['simulator', '--port', 'eighty'], {})
  t.equal(option.code, 1)
  t.match(option.stderr, '--port must be a port number')
})

t.test('migrate applies the migrations once, and refuses a data directory another process holds', async (t) => {
  const { env } = shared
  const first = await runCli(['migrate'], env)
  t.equal(first.code, 0, first.stderr)
  if (testDatabaseUrl === undefined && cliHasTemplate) {
    // The command runs the build, whose template a new embedded data directory is unpacked from.
    t.match(first.stdout, 'already up to date', 'a new embedded data directory comes migrated')
  } else {
    t.match(first.stdout, /: applied \d{8}T\d{4}-initial-data-model, /)
  }
  const again = await runCli(['migrate'], env)
  t.match(again.stdout, 'already up to date')
  if (testDatabaseUrl !== undefined) return
  const dir = env.MAILRUN_DATA_DIR ?? ''
  const lock = await lockDataDir(dir)
  t.teardown(lock.release)
  const held = await runCli(['migrate'], { MAILRUN_DATA_DIR: dir })
  t.equal(held.code, 1)
  t.match(held.stderr, `in use by another mailrun, process ${process.pid}`)
  t.notMatch(held.stderr, /\n\s+at /, 'no stack trace')
})

t.test('admin-key rotate: the new key works, the old one and its console sessions stop', async (t) => {
  const { env, withData } = shared
  const old = await withData(async (db) => {
    await migrateToLatest(db)
    const key = await ensureAdminKey(db, undefined)
    await db.insertInto('console_sessions').values({ id_hash: 'a'.repeat(64), user_id: null, instance_admin: true, expires_at: new Date(Date.now() + 3600_000), last_seen_at: new Date() }).execute()
    return key
  })
  t.ok(old)
  const rotated = await runCli(['admin-key', 'rotate'], env)
  t.equal(rotated.code, 0, rotated.stderr)
  const key = /\n {4}(mra_\S+)\n/.exec(rotated.stdout)?.[1]
  t.ok(key, rotated.stdout)
  t.match(rotated.stdout, '1 previous key revoked')
  await withData(async (db) => {
    t.same(await authenticateKey(db, key ?? '', undefined), { scope: 'admin', keyId: (await db.selectFrom('api_keys').select('id').where('revoked_at', 'is', null).executeTakeFirstOrThrow()).id })
    t.equal(await authenticateKey(db, old ?? '', undefined), null, 'the old key is refused')
    t.equal((await db.selectFrom('console_sessions').selectAll().execute()).length, 0)
  })

  const fixed = await runCli(['admin-key', 'rotate'], { ...env, MAILRUN_ADMIN_KEY: 'mra_chosen-by-the-operator-0000000' })
  t.equal(fixed.code, 1)
  t.match(fixed.stderr, 'comes from MAILRUN_ADMIN_KEY')
  await withData(async (db) => { t.ok(await authenticateKey(db, key ?? '', undefined), 'nothing stored changed') })
})
