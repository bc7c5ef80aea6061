import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { authenticateKey, ensureAdminKey } from '../../src/auth/api-keys.js'
import { lockDataDir } from '../../src/db/data-dir-lock.js'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { runCli } from '../support/cli.js'
import { insertTenant } from '../support/fixtures.js'

// The `mailrun` command's maintenance verbs, run as an operator runs them: a separate process on
// an embedded data directory (backup and restore exist for that database only).

async function dataDir (t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

async function withData<T> (dir: string, work: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> {
  const database = await openDatabase({ kind: 'pglite', dataDir: dir })
  try {
    return await work(database.db)
  } finally {
    await database.close()
  }
}

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
  const dir = await dataDir(t)
  const first = await runCli(['migrate'], { MAILRUN_DATA_DIR: dir })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /: applied \d{8}T\d{4}-initial-data-model, /)
  const again = await runCli(['migrate'], { MAILRUN_DATA_DIR: dir })
  t.match(again.stdout, 'already up to date')
  const lock = await lockDataDir(dir)
  t.teardown(lock.release)
  const held = await runCli(['migrate'], { MAILRUN_DATA_DIR: dir })
  t.equal(held.code, 1)
  t.match(held.stderr, `in use by another mailrun, process ${process.pid}`)
  t.notMatch(held.stderr, /\n\s+at /, 'no stack trace')
})

t.test('admin-key rotate: the new key works, the old one and its console sessions stop', async (t) => {
  const dir = await dataDir(t)
  const old = await withData(dir, async (db) => {
    await migrateToLatest(db)
    const key = await ensureAdminKey(db, undefined)
    await db.insertInto('console_sessions').values({ id_hash: 'a'.repeat(64), user_id: null, instance_admin: true, expires_at: new Date(Date.now() + 3600_000), last_seen_at: new Date() }).execute()
    return key
  })
  t.ok(old)
  const rotated = await runCli(['admin-key', 'rotate'], { MAILRUN_DATA_DIR: dir })
  t.equal(rotated.code, 0, rotated.stderr)
  const key = /\n {4}(mra_\S+)\n/.exec(rotated.stdout)?.[1]
  t.ok(key, rotated.stdout)
  t.match(rotated.stdout, '1 previous key revoked')
  await withData(dir, async (db) => {
    t.same(await authenticateKey(db, key ?? '', undefined), { scope: 'admin', keyId: (await db.selectFrom('api_keys').select('id').where('revoked_at', 'is', null).executeTakeFirstOrThrow()).id })
    t.equal(await authenticateKey(db, old ?? '', undefined), null, 'the old key is refused')
    t.equal((await db.selectFrom('console_sessions').selectAll().execute()).length, 0)
  })

  const fixed = await runCli(['admin-key', 'rotate'], { MAILRUN_DATA_DIR: dir, MAILRUN_ADMIN_KEY: 'mra_chosen-by-the-operator-0000000' })
  t.equal(fixed.code, 1)
  t.match(fixed.stderr, 'comes from MAILRUN_ADMIN_KEY')
  await withData(dir, async (db) => { t.ok(await authenticateKey(db, key ?? '', undefined), 'nothing stored changed') })
})

t.test('backup and restore the embedded database', async (t) => {
  const dir = await dataDir(t)
  const file = path.join(await dataDir(t), 'mailrun.tar.gz')
  const tenantId = await withData(dir, async (db) => { await migrateToLatest(db); return await insertTenant(db, 'Kept in the backup') })

  const made = await runCli(['backup', file], { MAILRUN_DATA_DIR: dir })
  t.equal(made.code, 0, made.stderr)
  t.match(made.stdout, `wrote ${file} (`)
  t.match(made.stdout, 'secret.key', 'reminds that the secret key is kept apart')
  t.equal((await runCli(['backup', file], { MAILRUN_DATA_DIR: dir })).code, 1, 'never overwrites a backup')

  await withData(dir, async (db) => { await db.deleteFrom('tenants').where('id', '=', tenantId).execute() })
  const refused = await runCli(['restore', file], { MAILRUN_DATA_DIR: dir })
  t.equal(refused.code, 1)
  t.match(refused.stderr, 'add --force')

  const restored = await runCli(['restore', file, '--force'], { MAILRUN_DATA_DIR: dir })
  t.equal(restored.code, 0, restored.stderr)
  t.match(restored.stdout, 'restored')
  await withData(dir, async (db) => { t.equal((await db.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirst())?.name, 'Kept in the backup') })
  t.ok((await readdir(dir)).some((name) => name.startsWith('pgdata.before-restore-')), 'the replaced database is kept aside')

  const corrupt = path.join(path.dirname(file), 'corrupt.tar.gz')
  await writeFile(corrupt, 'not a backup')
  const bad = await runCli(['restore', corrupt, '--force'], { MAILRUN_DATA_DIR: dir })
  t.equal(bad.code, 1)
  t.match(bad.stderr, 'could not be restored')
  await withData(dir, async (db) => { t.equal((await db.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirst())?.name, 'Kept in the backup', 'a failed restore changes nothing') })

  const elsewhere = await runCli(['backup', path.join(path.dirname(file), 'pg.tar.gz')], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', MAILRUN_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') })
  t.equal(elsewhere.code, 1)
  t.match(elsewhere.stderr, 'pg_dump')
  t.notOk(existsSync(path.join(path.dirname(file), 'pg.tar.gz')))
})
