import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import t from 'tap'
import { openDatabase, pgliteStartParams } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { writePGliteTemplate } from '../../src/db/pglite-template.js'
import { migrations } from '../../migrations/index.js'

// A new embedded data directory is unpacked from the migrated template the build makes (no initdb
// in the server, no migrations at the first start); without a template it is made by initdb.

t.test('a first start from the template: migrated already, and the data directory is the real one', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-template-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const templateFile = path.join(dir, 'template.tar.gz')
  await writePGliteTemplate(await pgliteStartParams(), templateFile)

  const first = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'data'), templateFile })
  t.same(await migrateToLatest(first.db), [], 'nothing left to migrate')
  const shared = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(first.db)
  t.equal(shared.rows[0]?.shared_buffers, '16MB', 'the small buffer pool (memory)')
  await first.db.insertInto('tenants').values({ name: 'Kept', max_mailboxes: 1 }).execute()
  await first.close()

  // Opened again (the template is not used on a directory that has a database).
  const again = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'data'), templateFile })
  t.same((await again.db.selectFrom('tenants').select('name').execute()).map((r) => r.name), ['Kept'])
  await again.close()
})

t.test('without a template, the first start makes the database itself', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-template-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const handle = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'data'), templateFile: path.join(dir, 'none.tar.gz') })
  t.equal((await migrateToLatest(handle.db)).length, Object.keys(migrations).length, 'every migration applied')
  await handle.close()
})
