import { execFile } from 'node:child_process'
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { freePort } from './net.js'
import { repoRoot } from './process.js'

const run = promisify(execFile)

export interface Postfix {
  port: number
  /** The mail log so far. */
  log: () => Promise<string>
  /** Asks the queue manager to try every deferred message now. */
  flush: () => Promise<void>
  stop: () => Promise<void>
}

/** Skips (or, under CI=true, fails) a test that needs Postfix when it cannot run here. */
export function needsPostfix (t: Test): boolean {
  const missing = !existsSync('/usr/sbin/postfix')
    ? 'Postfix is not installed: apt-get install -y postfix (the MTA tests run a real one)'
    : userInfo().uid !== 0 ? 'Postfix must be started as root (the MTA tests run a real one)' : null
  if (missing === null) return true
  if (process.env.CI === 'true') t.fail(missing)
  else t.comment(`skipped: ${missing}`)
  return false
}

/**
 * A Postfix of the test's own, on 127.0.0.1 at a free port, with its own configuration, queue and
 * log: mail for `domain` goes through the pipe transport `mailrun` to bin/mailrun-deliver with
 * `mimeUrl`, as docs/providers.md's recipe sets it up, or, given `relay` (a transport such as
 * `smtp:[127.0.0.1]:2525`), to mailrun's SMTP door. Deferred mail is retried every second.
 */
export async function startPostfix (t: Test, options: { domain: string, mimeUrl: string } | { domain: string, relay: string }): Promise<Postfix> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-postfix-'))
  await chmod(dir, 0o755)
  const port = await freePort()
  const conf = path.join(dir, 'conf')
  await mkdir(conf)
  await mkdir(path.join(dir, 'queue'))
  await mkdir(path.join(dir, 'data'))
  await chown(path.join(dir, 'data'), Number((await run('id', ['-u', 'postfix'])).stdout.trim()), 0)
  // The pipe runs as an unprivileged user that may not read the checkout: it gets its own copy.
  const deliver = path.join(dir, 'mailrun-deliver.js')
  await copyFile(path.join(repoRoot, 'bin/mailrun-deliver.js'), deliver)
  await chmod(deliver, 0o755)
  await writeFile(path.join(conf, 'transport'), `${options.domain} ${'relay' in options ? options.relay : 'mailrun:'}\n`)
  await writeFile(path.join(conf, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/queue`,
    `data_directory = ${dir}/data`,
    `maillog_file = ${dir}/maillog`,
    `maillog_file_prefixes = ${dir}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'myhostname = mx.mailrun-test.example',
    'mydestination =',
    `relay_domains = ${options.domain}`,
    `transport_maps = texthash:${conf}/transport`,
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
    'mailrun_destination_recipient_limit = 1',
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximal_backoff_time = 2s',
    'smtputf8_enable = no',
    'biff = no',
    'alias_maps =',
    'alias_database =',
    ''
  ].join('\n'))
  await writeFile(path.join(conf, 'master.cf'), [
    `127.0.0.1:${port} inet  n       -       n       -       -       smtpd`,
    'pickup    unix  n       -       n       60      1       pickup',
    'cleanup   unix  n       -       n       -       0       cleanup',
    'qmgr      unix  n       -       n       300     1       qmgr',
    'rewrite   unix  -       -       n       -       -       trivial-rewrite',
    'bounce    unix  -       -       n       -       0       bounce',
    'defer     unix  -       -       n       -       0       bounce',
    'trace     unix  -       -       n       -       0       bounce',
    'verify    unix  -       -       n       -       1       verify',
    'flush     unix  n       -       n       1000?   0       flush',
    'proxymap  unix  -       -       n       -       -       proxymap',
    'smtp      unix  -       -       n       -       -       smtp',
    'showq     unix  n       -       n       -       -       showq',
    'error     unix  -       -       n       -       -       error',
    'retry     unix  -       -       n       -       -       error',
    'discard   unix  -       -       n       -       -       discard',
    'anvil     unix  -       -       n       -       1       anvil',
    'scache    unix  -       -       n       -       1       scache',
    'postlog   unix-dgram n  -       n       -       1       postlogd',
    '# The recipe from docs/providers.md: the message on standard input, the mailbox mime URL as argument.',
    'mailrun   unix  -       n       n       -       -       pipe',
    `  flags=R user=nobody argv=${process.execPath} ${deliver} ${'mimeUrl' in options ? options.mimeUrl : 'unused'}`,
    'lmtp      unix  -       -       n       -       -       lmtp',
    ''
  ].join('\n'))
  const postfix = async (...args: string[]): Promise<void> => { await run('/usr/sbin/postfix', ['-c', conf, ...args]) }
  await postfix('check')
  await postfix('start')
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await postfix('stop').catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
  t.teardown(stop)
  // Ready when smtpd answers.
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      import('node:net').then(({ connect }) => {
        const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
        socket.on('error', () => { resolve(false) })
      }).catch(() => { resolve(false) })
    })
    if (up) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    port,
    log: async () => await readFile(path.join(dir, 'maillog'), 'utf8').catch(() => ''),
    flush: async () => { await run('/usr/sbin/postqueue', ['-c', conf, '-f']) },
    stop
  }
}
