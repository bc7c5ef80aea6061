import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database, GraphSettings, ImapSettings, MailAuth, SealedOAuthSecret, SmtpSettings } from '../db/schema.js'
import { graphScope, obtainToken, type OAuthKind } from './obtain-token.js'
import { MailTokenError, type TokenHttp } from './token-endpoint.js'

// Access tokens for mailboxes that sign in with OAuth2: cached per mailbox until shortly before
// they expire, one request at a time per mailbox (the sweeper, the mailer and a test action may
// ask together), and a rotated refresh token sealed back before the new access token is used.

/** What IMAP and SMTP clients sign in with. */
export type MailCredential = { user: string, pass: string } | { user: string, accessToken: string }

export type Which = 'imap' | 'smtp' | 'graph'

/** The columns of a mailbox row the credentials come from. */
export interface MailboxSignIn {
  id: string
  imap: ImapSettings | null
  imap_password_enc: string | null
  smtp: SmtpSettings | null
  smtp_password_enc: string | null
  graph?: GraphSettings | null
  graph_secret_enc?: string | null
}

export interface MailTokens {
  /** The credential for the mailbox's IMAP or SMTP server; throws MailTokenError when no token can be had. */
  credential: (row: MailboxSignIn, which: Which) => Promise<MailCredential>
  /** A server refused `accessToken`: the next credential() for this mailbox asks for a new one. */
  invalidate: (mailboxId: string, accessToken: string) => void
}

export interface MailTokensDeps {
  db: Kysely<Database>
  secrets: SecretBox
  http: TokenHttp
  logger?: Logger
  clock?: () => number
}

// Renewed before expiry, so that a token never expires between the cache and a login: a fifth of
// its lifetime early, at most 5 minutes. (A fixed 5 minutes served no token that lives 5 minutes
// or less from the cache at all: every sign-in spent a refresh token.)
const EARLY_RENEWAL_MS = 5 * 60_000
const EARLY_RENEWAL_SHARE = 0.2

interface Cached { fingerprint: string, token: string, expiresAt: number, renewAt: number }

const columnOf = (which: Which): 'imap_password_enc' | 'smtp_password_enc' | 'graph_secret_enc' => which === 'imap' ? 'imap_password_enc' : which === 'smtp' ? 'smtp_password_enc' : 'graph_secret_enc'

/** Where a sign-in's settings and secret live: SMTP with same_as_imap borrows the IMAP ones. */
function source (row: MailboxSignIn, which: Which): { which: Which, auth: MailAuth, user: string, secretEnc: string | null, scope?: string } {
  if (which === 'graph') {
    if (row.graph == null) throw new MailTokenError('the mailbox has no Graph settings', true)
    return { which, auth: row.graph.auth, user: row.graph.user, secretEnc: row.graph_secret_enc ?? null, scope: graphScope(row.graph.baseUrl) }
  }
  const smtpAuth = row.smtp?.auth
  if (which === 'smtp' && smtpAuth?.kind !== 'same_as_imap') {
    return { which, auth: smtpAuth ?? { kind: 'password' }, user: row.smtp?.user ?? '', secretEnc: row.smtp_password_enc }
  }
  if (row.imap === null) throw new MailTokenError('smtp signs in as the IMAP settings do, but the mailbox has no IMAP settings', true)
  return { which: 'imap', auth: row.imap.auth ?? { kind: 'password' }, user: row.imap.user, secretEnc: row.imap_password_enc }
}

export function createMailTokens (deps: MailTokensDeps): MailTokens {
  const clock = deps.clock ?? Date.now
  const cache = new Map<string, Cached>()
  const inflight = new Map<string, Promise<Cached>>()

  const keyOf = (id: string, which: Which): string => `${id}:${which}`
  // A changed setting or secret must not reuse a token obtained with the old one. The refresh
  // token itself is left out: it changes on every rotation, and the access token stays good.
  const fingerprintOf = (auth: MailAuth, user: string, secret: SealedOAuthSecret, scope: string | undefined): string =>
    createHash('sha256').update(JSON.stringify([auth, user, secret.clientSecret ?? null, secret.privateKey ?? null, scope ?? null])).digest('hex')

  async function fetchToken (id: string, which: Which, auth: OAuthKind, user: string, given: { secretEnc: string, secret: SealedOAuthSecret }, fingerprint: string, scope: string | undefined): Promise<Cached> {
    const column = columnOf(which)
    let { secretEnc, secret } = given
    if (auth.kind === 'oauth_refresh') {
      // The secret as stored now, not as the caller read the row: a refresh token rotated since
      // (by the step before, another instance, the sweeper) is the only one the server still takes.
      const current = await deps.db.selectFrom('mailboxes').select(column).where('id', '=', id).executeTakeFirst()
      const stored = current?.[column]
      if (typeof stored === 'string' && stored !== secretEnc) {
        secretEnc = stored
        secret = JSON.parse(deps.secrets.open(stored)) as SealedOAuthSecret
      }
    }
    const started = clock()
    const answer = await obtainToken(deps.http, auth, secret, user, started, scope)
    if (answer.refresh_token !== undefined && auth.kind === 'oauth_refresh' && answer.refresh_token !== secret.refreshToken) {
      // Sealed back only if nobody changed the secret meanwhile (a PATCH wins over a rotation).
      await deps.db.updateTable('mailboxes').set({ [column]: deps.secrets.seal(JSON.stringify({ ...secret, refreshToken: answer.refresh_token })) })
        .where('id', '=', id).where(column, '=', secretEnc).execute()
      deps.logger?.info({ mailbox: id, which }, 'rotated refresh token stored')
    }
    const lifetimeMs = (answer.expires_in ?? 3600) * 1000
    const expiresAt = started + lifetimeMs
    return { fingerprint, token: answer.access_token, expiresAt, renewAt: expiresAt - Math.min(EARLY_RENEWAL_MS, lifetimeMs * EARLY_RENEWAL_SHARE) }
  }

  return {
    async credential (row, which) {
      const { which: owner, auth, user, secretEnc, scope } = source(row, which)
      if (auth.kind === 'password' || auth.kind === 'same_as_imap') {
        return { user, pass: secretEnc !== null ? deps.secrets.open(secretEnc) : '' }
      }
      if (secretEnc === null) throw new MailTokenError(`${owner} sign-in (${auth.kind}) has no stored secret: enter it again`, true)
      const secret = JSON.parse(deps.secrets.open(secretEnc)) as SealedOAuthSecret
      const key = keyOf(row.id, owner)
      const fingerprint = fingerprintOf(auth, user, secret, scope)
      const cached = cache.get(key)
      if (cached !== undefined && cached.fingerprint === fingerprint && cached.renewAt > clock()) return { user, accessToken: cached.token }
      let pending = inflight.get(key)
      if (pending === undefined) {
        pending = fetchToken(row.id, owner, auth, user, { secretEnc, secret }, fingerprint, scope).finally(() => { inflight.delete(key) })
        inflight.set(key, pending)
      }
      const fresh = await pending
      cache.set(key, fresh)
      return { user, accessToken: fresh.token }
    },
    invalidate (mailboxId, accessToken) {
      for (const which of ['imap', 'smtp', 'graph'] as const) {
        const key = keyOf(mailboxId, which)
        if (cache.get(key)?.token === accessToken) cache.delete(key)
      }
    }
  }
}
