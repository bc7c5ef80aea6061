import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { runCli } from '../support/cli.js'
import { testDatabaseUrl } from '../support/database.js'
import { insertTenant } from '../support/fixtures.js'

// `mailrun backup` and `mailrun restore`, run as an operator runs them, on an embedded data
// directory: they exist for that database only (PostgreSQL has pg_dump).

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

t.test('backup and restore the embedded database', async (t) => {
  if (testDatabaseUrl !== undefined) { t.pass('embedded database only: runs in the PGlite pass'); return }
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
})

t.test('with DATABASE_URL, backup points to pg_dump and writes nothing', async (t) => {
  const file = path.join(await dataDir(t), 'pg.tar.gz')
  const elsewhere = await runCli(['backup', file], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', MAILRUN_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') })
  t.equal(elsewhere.code, 1)
  t.match(elsewhere.stderr, 'pg_dump')
  t.notOk(existsSync(file))
})
