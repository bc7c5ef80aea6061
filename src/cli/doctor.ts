import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config.js'
import { createSecretBox, type SecretBox } from '../crypto/secret-box.js'
import { loadSecretKey } from '../crypto/secret-key.js'
import { DataDirLocked, lockDataDir } from '../db/data-dir-lock.js'
import { openConfiguredDatabase, type DatabaseHandle } from '../db/database.js'
import { pendingMigrations } from '../db/migrate.js'
import type { GraphSettings, ImapSettings, SmtpSettings } from '../db/schema.js'
import { checkMailbox, said } from '../mail-auth/mailbox-check.js'
import { createMailTokens } from '../mail-auth/mail-tokens.js'
import { outboundDispatcher } from '../net/outbound-dispatcher.js'
import { resolverOn } from '../net/outbound-guard.js'
import { PUBLIC_URL_WARNINGS, publicUrlProblems } from '../net/public-url.js'
import { checkConnection } from '../orchestrator/connection-test.js'
import { loadConnection } from '../orchestrator/connection.js'
import { createOrchestratorRegistry } from '../orchestrator/registry.js'
import { domainsClaimedTwice } from '../resources/tenant-domains.js'
import { configFrom } from './database.js'

// `mailrun doctor`: every check an operator would otherwise do by hand after an install or a
// change, in the order things depend on each other, each failure with what to do about it.
// It reads and connects; it changes nothing (no migration, no key generated).

type Mark = 'ok' | 'warn' | 'fail'
const SYMBOL: Record<Mark, string> = { ok: '✓', warn: '!', fail: '✗' }

interface Report { line: (mark: Mark, what: string, detail: string) => void, failures: number, warnings: number }

function report (): Report {
  const r: Report = {
    failures: 0,
    warnings: 0,
    line (mark, what, detail) {
      if (mark === 'fail') r.failures++
      if (mark === 'warn') r.warnings++
      process.stdout.write(`${SYMBOL[mark]} ${what}: ${detail}\n`)
    }
  }
  return r
}

async function checkSecretKey (config: Config, r: Report): Promise<SecretBox | null> {
  if (config.secretKey !== undefined) { r.line('ok', 'secret key', 'MAILRUN_SECRET_KEY is set'); return createSecretBox(config.secretKey) }
  if (config.databaseUrl !== undefined) {
    r.line('fail', 'secret key', 'MAILRUN_SECRET_KEY is required with DATABASE_URL (every replica must share it): generate one with `openssl rand -base64 32` and keep it with your database backups')
    return null
  }
  const file = path.resolve(config.dataDir, 'secret.key')
  if (!existsSync(file)) { r.line('warn', 'secret key', `${file} does not exist yet: the first start generates it; back it up with the data directory`); return null }
  try {
    const { key } = await loadSecretKey(config)
    r.line('ok', 'secret key', file)
    return createSecretBox(key)
  } catch (error) {
    r.line('fail', 'secret key', said(error))
    return null
  }
}

async function checkDns (config: Config, domains: string[], r: Report): Promise<void> {
  const which = config.dnsServers !== undefined ? `MAILRUN_DNS_SERVERS ${config.dnsServers.join(', ')}` : 'the system resolver'
  const resolver = resolverOn(config.dnsServers)
  // DKIM and DMARC need TXT answers; "no such record" is an answer, a timeout or a refusal is not.
  const name = `_dmarc.${domains[0] ?? 'example.com'}`
  try {
    await resolver.resolveTxt(name)
    r.line('ok', 'DNS for DKIM/DMARC', `${which} answered for ${name}`)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ENOTFOUND' || code === 'ENODATA') { r.line('ok', 'DNS for DKIM/DMARC', `${which} answered for ${name} (no record)`); return }
    r.line('fail', 'DNS for DKIM/DMARC', `${which} gave no answer for ${name} (${code ?? said(error)}): DKIM and DMARC cannot be checked, so signed mail is refused. Fix the resolver or set MAILRUN_DNS_SERVERS to servers that answer.`)
  }
}

async function checkTenants (config: Config, database: DatabaseHandle, secrets: SecretBox, r: Report): Promise<void> {
  const { db } = database
  const tenants = await db.selectFrom('tenants').select(['id', 'name']).orderBy('name').execute()
  if (tenants.length === 0) { r.line('warn', 'tenants', 'none yet: create one with POST /api/v1/tenants (README, "Try it yourself")'); return }
  // Only mailboxes registered before tenants owned domains can leave one domain with two tenants.
  for (const { domain, tenants: holders } of await domainsClaimedTwice(db)) {
    r.line('warn', `domain ${domain}`, `is claimed by ${holders.map((name) => `"${name}"`).join(' and ')} (their mailboxes predate tenant domains): a domain belongs to one tenant. Keep it on one (PATCH /api/v1/tenants/{id} with "domains") and move the other's mailboxes.`)
  }
  const dispatcher = outboundDispatcher(config.outboundDeny)
  const registry = createOrchestratorRegistry({ dispatcher, deny: config.outboundDeny, timeoutMs: config.orchestratorTimeoutMs })
  // Tokens obtained here are not kept; a rotated refresh token is stored as mailrun would.
  const checkDeps = { tokens: createMailTokens({ db, secrets, http: { dispatcher, deny: config.outboundDeny } }), deny: config.outboundDeny, defaultSmtpUrl: config.smtpUrl }
  try {
    for (const tenant of tenants) {
      process.stdout.write(`tenant "${tenant.name}" (${tenant.id})\n`)
      const t: Report = { ...r, line: (mark, what, detail) => { r.line(mark, `  ${what}`, detail) } }
      let connection
      try {
        connection = await loadConnection(db, secrets, tenant.id)
      } catch (error) {
        t.line('fail', 'Orchestrator', `its stored secret cannot be read (${said(error)}): MAILRUN_SECRET_KEY is not the key it was saved with; restore the right key, or enter the secret again`)
        connection = undefined
      }
      if (connection === null) t.line('warn', 'Orchestrator', 'no connection: PUT /api/v1/orchestrator')
      else if (connection !== undefined) {
        const result = await checkConnection(registry.clientFor(connection))
        for (const step of result.steps) t.line(step.ok ? 'ok' : 'fail', `Orchestrator ${step.step}`, step.detail)
      }
      const mailboxes = await db.selectFrom('mailboxes').select(['id', 'address', 'active', 'imap', 'imap_password_enc', 'smtp', 'smtp_password_enc', 'graph', 'graph_secret_enc']).where('tenant_id', '=', tenant.id).orderBy('address').execute()
      if (mailboxes.length === 0) t.line('warn', 'mailboxes', 'none yet: POST /api/v1/mailboxes')
      for (const mailbox of mailboxes) {
        if (!mailbox.active) { t.line('ok', `mailbox ${mailbox.address}`, 'inactive, not checked'); continue }
        const result = await checkMailbox(checkDeps, { ...mailbox, imap: mailbox.imap as ImapSettings | null, smtp: mailbox.smtp as SmtpSettings | null, graph: mailbox.graph as GraphSettings | null })
        for (const step of result.steps) {
          // No SMTP server at all is a warning here: mail is still received and launched.
          const mark = step.ok ? 'ok' : step.step === 'smtp' ? 'warn' : 'fail'
          if (step.step === 'imap' && step.ok) continue
          t.line(mark, `mailbox ${mailbox.address} ${step.step.replace(/ login$/, '').replace(/^imap|^smtp/, (w) => w.toUpperCase()).replace(/^graph/, 'Graph')}`, step.detail)
        }
      }
    }
  } finally {
    await dispatcher.close()
  }
}

/** Runs every check; answers the exit status: 0 when nothing failed (warnings allowed), else 1. */
export async function doctor (): Promise<number> {
  const r = report()
  let config: Config
  try {
    config = configFrom(process.env)
  } catch (error) {
    r.line('fail', 'configuration', said(error))
    return 1
  }
  r.line('ok', 'configuration', `read; database ${config.databaseUrl !== undefined ? 'PostgreSQL (DATABASE_URL)' : `embedded, in ${path.resolve(config.dataDir)}`}`)
  const problems = publicUrlProblems(config.publicUrl)
  if (problems.length === 0) r.line('ok', 'public URL', config.publicUrl)
  for (const problem of problems) r.line('warn', 'public URL', `${config.publicUrl}: ${PUBLIC_URL_WARNINGS[problem]}`)
  const secrets = await checkSecretKey(config, r)

  let lock: Awaited<ReturnType<typeof lockDataDir>> | null = null
  let database: DatabaseHandle | null = null
  // What could not be looked at: the report must not end "no problems" as if it had been.
  let notChecked: string | null = null
  try {
    if (config.databaseUrl === undefined) {
      try {
        lock = await lockDataDir(config.dataDir)
      } catch (error) {
        if (!(error instanceof DataDirLocked)) throw error
        r.line('warn', 'database', `not checked: ${error.message}`)
        notChecked = 'the database and the tenants (their Orchestrator connections and mailboxes) were not checked: mailrun is running on this embedded database. Stop it and run doctor again, or use PostgreSQL (DATABASE_URL), which both can open at once'
      }
    }
    if (config.databaseUrl !== undefined || lock !== null) {
      try {
        database = await openConfiguredDatabase(config)
        const pending = await pendingMigrations(database.db)
        r.line(pending.length === 0 ? 'ok' : 'warn', 'database', `${database.location} answers${pending.length === 0 ? ', every migration applied' : `; ${pending.length} migration(s) pending: they run at the next start, or now with \`mailrun migrate\``}`)
      } catch (error) {
        r.line('fail', 'database', `${said(error)}. ${config.databaseUrl !== undefined ? 'Check DATABASE_URL and that the server is running.' : `Check that ${config.dataDir} is writable.`}`)
        database = null
      }
    }
    let domains: string[] = []
    let migrated = false
    if (database !== null) {
      migrated = (await pendingMigrations(database.db).catch(() => ['?'])).length === 0
      if (migrated) domains = (await database.db.selectFrom('mailboxes').select('address').execute()).map((m) => m.address.split('@').pop() ?? '')
    }
    await checkDns(config, domains, r)
    if (database !== null && migrated && secrets !== null) await checkTenants(config, database, secrets, r)
    else if (database !== null && notChecked === null) notChecked = `the tenants were not checked: ${!migrated ? 'migrations are pending (`mailrun migrate`)' : 'the secret key cannot be read'}`
  } finally {
    await database?.close()
    await lock?.release()
  }
  if (r.failures > 0) {
    process.stdout.write(`\n${r.failures} problem${r.failures === 1 ? '' : 's'} to fix (marked ✗ above)${notChecked !== null ? `; and ${notChecked}` : ''}\n`)
    return 1
  }
  if (notChecked !== null) {
    // Exit 2: nothing failed, but this was not a full check (scripts must not read it as healthy).
    process.stdout.write(`\nnot everything was checked: ${notChecked}\n`)
    return 2
  }
  process.stdout.write(`\nno problems${r.warnings > 0 ? ` (${r.warnings} warning${r.warnings === 1 ? '' : 's'} above)` : ''}\n`)
  return 0
}
