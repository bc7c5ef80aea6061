import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ImapFlow } from 'imapflow'
import type { Test } from 'tap'
import { repoRoot } from './process.js'
import { freePort } from './net.js'

const DOVECOT = '/usr/sbin/dovecot'

/** Configuration for a Dovecot that does not offer IMAP NOTIFY: its own capability list without it. */
export const WITHOUT_NOTIFY = 'imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE\n'

export interface Dovecot {
  host: string
  port: number
  /** IMAP APPEND as `user`, as a mail client or server would. */
  append: (user: string, folder: string, raw: Buffer | string, internalDate?: Date) => Promise<void>
  /** Creates a folder. */
  create: (user: string, folder: string) => Promise<void>
  /** A file dropped into the Maildir, as a local MTA delivers. */
  deliver: (user: string, folder: 'INBOX' | 'Junk', raw: Buffer | string) => Promise<void>
  /** Ends every IMAP session of `user` (doveadm kick): connections dropped under the clients. */
  kick: (user: string) => Promise<void>
  /** Deletes and re-creates a folder: the server gives it a new UIDVALIDITY. */
  recreate: (user: string, folder: string) => Promise<void>
  stop: () => Promise<void>
  start: () => Promise<void>
}

/** Skips (or, under CI=true, fails) a test that needs Dovecot when it is not installed. */
export function needsDovecot (t: Test): boolean {
  if (existsSync(DOVECOT)) return true
  const message = 'Dovecot is not installed: apt-get install -y dovecot-imapd (the IMAP tests run a real server)'
  if (process.env.CI === 'true') t.fail(message)
  else t.comment(`skipped: ${message}`)
  return false
}

/** A real Dovecot for a tap test, stopped and removed when the test ends. */
export async function startDovecot (t: Test, users: Record<string, string>, options: { oauth2IntrospectionUrl?: string, extraConfig?: string } = {}): Promise<Dovecot> {
  const dovecot = await launchDovecot(users, options.extraConfig ?? '', options.oauth2IntrospectionUrl)
  t.teardown(dovecot.destroy)
  return dovecot
}

/**
 * Dovecot's oauth2 passdb (SASL XOAUTH2 and OAUTHBEARER) asking `url` about each token (GET with
 * the token as a bearer); {"active": true, "username": the user logging in} lets them in.
 * Password logins keep working for the test's own clients.
 */
async function writeOauth2Config (dir: string, url: string): Promise<string> {
  await writeFile(path.join(dir, 'dovecot-oauth2.conf.ext'), [
    // "post" mode panics Dovecot 2.3.19 (http_client_request_set_payload); "auth" sends the
    // token as a bearer, as a userinfo endpoint takes it. URLs are not %-expanded in 2.3.
    'introspection_mode = auth',
    `introspection_url = ${url}`,
    'force_introspection = yes',
    'username_attribute = username',
    'active_attribute = active',
    'active_value = true',
    ''
  ].join('\n'))
  return `
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${path.join(dir, 'dovecot-oauth2.conf.ext')}
}
`
}

/**
 * A real Dovecot on 127.0.0.1, as an unprivileged service with its own config, users and Maildirs.
 * `extraConfig` is appended to the test recipe (the benchmark raises the connection limits).
 */
export async function launchDovecot (users: Record<string, string>, extraConfig = '', oauth2IntrospectionUrl?: string): Promise<Dovecot & { destroy: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-dovecot-'))
  // Dovecot's own users must traverse the directory to reach the mail.
  await chmod(dir, 0o755)
  const port = await freePort()
  const template = await readFile(path.join(repoRoot, 'tests/fixtures/dovecot-test.conf'), 'utf8')
  await writeFile(path.join(dir, 'dovecot.conf'), template.replace(/\$\{DIR\}/g, dir).replace(/\$\{PORT\}/g, String(port)) + extraConfig + (oauth2IntrospectionUrl !== undefined ? await writeOauth2Config(dir, oauth2IntrospectionUrl) : ''))
  await writeFile(path.join(dir, 'users'), Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}`).join('\n') + '\n')
  await mkdir(path.join(dir, 'mail'), { recursive: true })
  execFileSync('chown', ['-R', 'dovecot:dovecot', path.join(dir, 'mail')])
  const conf = path.join(dir, 'dovecot.conf')
  const start = async (): Promise<void> => {
    execFileSync(DOVECOT, ['-c', conf], { stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      try {
        const probe = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: Object.keys(users)[0] ?? '', pass: Object.values(users)[0] ?? '' }, logger: false })
        await probe.connect()
        await probe.logout()
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    throw new Error(`Dovecot did not start; see ${dir}/dovecot.log`)
  }
  const stop = async (): Promise<void> => {
    const pidFile = path.join(dir, 'run/master.pid')
    if (!existsSync(pidFile)) return
    const pid = Number((await readFile(pidFile, 'utf8')).trim())
    try { process.kill(pid, 'SIGTERM') } catch { return }
    for (let i = 0; i < 100 && existsSync(pidFile); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const client = async <T>(user: string, work: (c: ImapFlow) => Promise<T>): Promise<T> => {
    const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: users[user] ?? '' }, logger: false })
    await c.connect()
    try { return await work(c) } finally { await c.logout() }
  }
  await start()
  return {
    destroy: async () => { await stop(); await rm(dir, { recursive: true, force: true }) },
    host: '127.0.0.1',
    port,
    append: async (user, folder, raw, internalDate) => { await client(user, async (c) => await c.append(folder, raw, [], internalDate ?? new Date())) },
    deliver: async (user, folder, raw) => {
      const target = path.join(dir, 'mail', user, 'Maildir', folder === 'INBOX' ? '' : '.Junk', 'new')
      await mkdir(target, { recursive: true })
      const file = path.join(target, `${Date.now()}.${randomBytes(4).toString('hex')}.mailrun-test`)
      await writeFile(file, raw)
      await chown(file, Number(execFileSync('id', ['-u', 'dovecot']).toString()), Number(execFileSync('id', ['-g', 'dovecot']).toString()))
    },
    kick: async (user) => { execFileSync('doveadm', ['-c', conf, 'kick', user], { stdio: 'ignore' }) },
    create: async (user, folder) => { await client(user, async (c) => await c.mailboxCreate(folder)) },
    recreate: async (user, folder) => {
      await client(user, async (c) => {
        await c.mailboxDelete(folder)
        await c.mailboxCreate(folder)
      })
    },
    stop,
    start
  }
}
