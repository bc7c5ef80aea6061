import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { testDatabaseUrl } from '../support/database.js'
import { startDnsServer } from '../support/dns-server.js'
import { repoRoot } from '../support/process.js'
import { codeBlocks, documentationFiles, type CodeBlock } from './code-blocks.js'

// The docs' commands, run as a newcomer runs them: the README's walkthrough from `npx mailrun
// simulator` and `npm start` to a launched job and two delivered replies, then the examples of
// docs/api.md, docs/providers.md and docs/operating.md in the same shell. Blocks run verbatim; the
// only edits are the ones a reader makes: the admin key mailrun printed pasted in place of `mra_…`,
// and a writable directory in place of /var/backups.

// Shown, not run, and why: the README's first block is the two commands, which .ci/run runs as such.
const TWO_COMMANDS = 'README.md:3'
// Files whose `sh` blocks run, in this order (one shell session: variables carry over).
const SESSION = ['README.md', 'docs/api.md', 'docs/setup.md', 'docs/providers.md', 'docs/operating.md']

const all = documentationFiles(repoRoot).flatMap((file) => codeBlocks(repoRoot, file))

t.test('every sh block in the docs is run here, or says why not', async (t) => {
  t.ok(all.length > 10, `found ${all.length} blocks`)
  for (const block of all) {
    const where = `${block.file}:${block.line}`
    if (block.kind === 'norun') t.ok(block.label.length > 5, `${where} says why it is not run`)
    else if (where !== TWO_COMMANDS) t.ok(SESSION.includes(block.file), `${where} is in a file this test runs`)
  }
  t.ok(all.find((b) => `${b.file}:${b.line}` === TWO_COMMANDS)?.code.startsWith('npm install && npm start'), 'the README starts with the two commands')
})

async function portFree (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const probe = createServer().once('error', () => { resolve(false) }).listen(port, '127.0.0.1', () => { probe.close(() => { resolve(true) }) })
  })
}

interface Terminal { child: ChildProcess, output: () => string, waitFor: (pattern: RegExp, ms: number) => Promise<RegExpMatchArray> }

function terminal (code: string, env: Record<string, string>): Terminal {
  // Its own process group, so that npm and what it starts are stopped together, as Ctrl-C would.
  const child = spawn('bash', ['-c', code], { cwd: repoRoot, env, detached: true })
  let text = ''
  child.stdout.on('data', (c: Buffer) => { text += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { text += c.toString('utf8') })
  const waitFor = async (pattern: RegExp, ms: number): Promise<RegExpMatchArray> => {
    const until = Date.now() + ms
    for (;;) {
      const match = text.match(pattern)
      if (match !== null) return match
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${String(pattern)} within ${ms} ms; output:\n${text}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  return { child, output: () => text, waitFor }
}

async function stop (term: Terminal, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
  if (term.child.exitCode !== null || term.child.pid === undefined) return
  const exited = new Promise((resolve) => term.child.once('exit', resolve))
  try { process.kill(-term.child.pid, signal) } catch {}
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))])
  try { process.kill(-term.child.pid, 'SIGKILL') } catch {}
}

/** Runs blocks in bash with `set -euo pipefail`; variables are kept in `vars` for the next call. */
async function session (blocks: CodeBlock[], env: Record<string, string>, vars: string, edit: (code: string) => string): Promise<{ code: number | null, output: string }> {
  const script = ['set -euo pipefail -a', `[ -f ${vars} ] && source ${vars}`, ...blocks.map((b) => `echo "::: ${b.file}:${b.line}"\n${edit(b.code)}`), `export -p > ${vars}`].join('\n')
  const child = spawn('bash', ['-c', script], { cwd: repoRoot, env })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { output += c.toString('utf8') })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { code, output }
}

t.test('from a clone to a launched job and delivered replies, then the docs\' examples', async (t) => {
  if (testDatabaseUrl !== undefined) {
    t.pass('the walkthrough is the zero-configuration path (embedded database): it runs in the PGlite pass')
    return
  }
  for (const port of [3000, 8900, 2525]) t.ok(await portFree(port), `port ${port}, which the README uses, is free`)
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-docs-'))
  await mkdir(path.join(dir, 'backups'))
  const dns = await startDnsServer({})
  const eml = path.join(repoRoot, 'message.eml')
  t.teardown(async () => { await dns.close(); await rm(dir, { recursive: true, force: true }); await rm(eml, { force: true }) })
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    // Where this run keeps its data, and a DNS server on this machine: what an operator sets.
    MAILRUN_DATA_DIR: path.join(dir, 'data'),
    MAILRUN_DNS_SERVERS: dns.address,
    // The job is polled every 2 s instead of 15 s, so the "finished" reply comes sooner.
    MAILRUN_JOB_POLL_INTERVAL_S: '2'
  }
  const blocks = (file: string): CodeBlock[] => all.filter((b) => b.file === file && `${b.file}:${b.line}` !== TWO_COMMANDS)
  const readme = blocks('README.md')
  const [simulatorBlock, mailrunBlock] = readme.filter((b) => b.kind === 'terminal')
  if (simulatorBlock === undefined || mailrunBlock === undefined) { t.fail('the README has its two terminals'); return }

  const simulator = terminal(simulatorBlock.code, env)
  t.teardown(async () => { await stop(simulator) })
  await simulator.waitFor(/Ctrl-C stops it\./, 120_000)
  t.match(simulator.output(), 'Orchestrator simulator (a local stand-in that follows the Orchestrator API; not UiPath): http://127.0.0.1:8900')
  t.match(simulator.output(), mailrunBlock.code, 'the simulator prints the README\'s command to start mailrun')

  const mailrun = terminal(mailrunBlock.code, env)
  t.teardown(async () => { await stop(mailrun) })
  await mailrun.waitFor(/mailrun listening on/, 240_000)
  const adminKey = (await mailrun.waitFor(/^ {4}(mra_\S+)$/m, 1000))[1] ?? ''
  const vars = path.join(dir, 'vars.sh')
  const edit = (code: string): string => code.replace('mra_…', adminKey).replaceAll('/var/backups/mailrun/', `${dir}/backups/`)

  const walkthrough = await session(readme.filter((b) => b.kind === 'run'), env, vars, edit)
  t.equal(walkthrough.code, 0, walkthrough.output)
  t.match(walkthrough.output, /"ok":true,"steps":\[\{"step":"authenticate","ok":true/, 'the connection test passes')
  t.match(walkthrough.output, /"status":"accepted".*"state":"launched"/, 'the door answers: accepted, launched')
  await simulator.waitFor(/\[simulator\] job \d+ started: process MonthlyReport/, 10_000)
  const launched = await simulator.waitFor(/\[mail catcher\] email to anna\.petrova@acme\.example\n.*\n {4}Subject: Re: Monthly Report\n {4}\n {4}Robot "Monthly Report" has been started\./, 30_000)
  t.ok(launched, 'the "launched" reply is delivered')
  await simulator.waitFor(/\[simulator\] job \d+ Successful/, 30_000)
  await simulator.waitFor(/Robot "Monthly Report" finished successfully\./, 60_000)
  t.pass('the "finished" reply is delivered')

  await writeFile(eml, `From: Anna Petrova <anna.petrova@acme.example>\r\nTo: robots@acme.example\r\nSubject: Monthly Report\r\nMessage-ID: <docs-${Date.now()}@acme.example>\r\n\r\nperiod = 2026-11\r\nBuildReport\r\nSendReport: to = boss@acme.example\r\n`)
  const examples = await session([...blocks('docs/api.md'), ...blocks('docs/setup.md'), ...blocks('docs/providers.md')].filter((b) => b.kind === 'run'), env, vars, edit)
  t.equal(examples.code, 0, examples.output)
  t.match(examples.output, /"status": "accepted",\n\s+"subject": "Monthly Report"/, 'api.md: the newest message')
  t.match(examples.output, /"state": "completed",\n\s+"jobId": \d+,\n\s+"outputArguments": \{\n\s+"out_Result"/, 'api.md: a completed launch with its output')
  t.match(examples.output, 'state must be one of: ', 'api.md: a bad filter lists the allowed values')
  t.match(examples.output, /fullName|email/, 'api.md: a missing field is named')
  t.match(examples.output, /http:\/\/localhost:3000\/console\/set-password\/\S+/, 'setup.md: a console user\'s set-password link')
  t.match(examples.output, /::: docs\/providers\.md:\d+\n\{"status":"accepted"/, 'providers.md: the raw MIME door takes message.eml')

  // docs/operating.md backs the embedded database up with mailrun stopped, as it says.
  await stop(mailrun)
  // The operator's commands run with mailrun's own configuration (operating.md says so): the
  // variables the README's mailrun terminal sets.
  const serverEnv = Object.fromEntries([...mailrunBlock.code.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']))
  t.same(Object.keys(serverEnv), ['MAILRUN_OUTBOUND_ALLOW', 'MAILRUN_SMTP_URL'])
  const operating = await session(blocks('docs/operating.md').filter((b) => b.kind === 'run'), { ...env, ...serverEnv }, vars, edit)
  t.equal(operating.code, 0, operating.output)
  t.match(operating.output, /^✓ database: PGlite in .* answers, every migration applied$/m, 'doctor checks the stopped database')
  t.match(operating.output, /^✓ {3}Orchestrator folder: found folder "Finance"/m, 'doctor checks the tenant the walkthrough made')
  t.match(operating.output, /^no problems/m)
  const backups = await readdir(path.join(dir, 'backups'))
  t.equal(backups.length, 1, 'the backup is written')
  t.match(operating.output, 'already up to date', 'migrate')
  t.ok(existsSync(path.join(dir, 'data', 'pgdata')))
})
