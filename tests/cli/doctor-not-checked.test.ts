import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrate.js'
import { runCli } from '../support/cli.js'
import { startDnsServer } from '../support/dns-server.js'
import { repoRoot } from '../support/process.js'

// `mailrun doctor` while mailrun holds the embedded database (issue #29): it skipped the database
// and tenant checks and still ended "no problems", exit 0. It must say what it did not check, and
// not exit 0.

t.test('doctor next to a running mailrun says the database and tenants were not checked, exit 2', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-doctor-held-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const database = await openDatabase({ kind: 'pglite', dataDir: dir })
  await migrateToLatest(database.db)
  await database.close()
  const dns = await startDnsServer({})
  t.teardown(dns.close)
  const env = { MAILRUN_DATA_DIR: dir, MAILRUN_SECRET_KEY: randomBytes(32).toString('base64'), MAILRUN_DNS_SERVERS: dns.address, MAILRUN_PUBLIC_URL: 'https://mailrun.acme.example' }

  const free = await runCli(['doctor'], env)
  t.equal(free.code, 0, free.stdout + free.stderr)
  t.match(free.stdout, /^no problems/m)

  const holder = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'tests/support/lock-holder.ts'), dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { holder.kill('SIGKILL') })
  await new Promise<void>((resolve) => { holder.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('locked')) resolve() }) })
  const held = await runCli(['doctor'], env)
  t.equal(held.code, 2, 'not 0: this was not a full check')
  t.match(held.stdout, /^! database: not checked: /m)
  t.match(held.stdout, /^not everything was checked: the database and the tenants \(their Orchestrator connections and mailboxes\) were not checked: mailrun is running on this embedded database\./m)
  t.notMatch(held.stdout, /no problems/)
})
