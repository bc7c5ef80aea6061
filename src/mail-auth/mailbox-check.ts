import { withTimeout } from '../async/with-timeout.js'
import type { MailAuth } from '../db/schema.js'
import { imapConnectOptions } from '../imap/connect-options.js'
import type { OutboundDeny } from '../net/outbound-guard.js'
import { smtpSignsIn, smtpTransportOptions } from '../notify/mailer.js'
import type { MailboxSignIn, MailCredential, MailTokens, Which } from './mail-tokens.js'
import { createGraphClient } from '../graph/graph-client.js'
import { outboundDispatcher } from '../net/outbound-dispatcher.js'
import { tokenUrlOf } from './obtain-token.js'
import { MailTokenError } from './token-endpoint.js'

// Connects to a mailbox's IMAP and SMTP servers (and reads it through Graph, when it has Graph
// settings) with its stored settings, as the sweeper, the mailer and the watcher would, and reports each step with what to do about a failure: the mailbox test action
// (POST /api/v1/mailboxes/{id}/test) and `mailrun doctor`.

export interface CheckStep { step: string, ok: boolean, detail: string }
export interface MailboxCheck { ok: boolean, steps: CheckStep[] }

export interface MailboxCheckDeps {
  tokens: MailTokens
  deny: OutboundDeny
  defaultSmtpUrl: string | undefined
  timeoutMs?: number
}

const KIND_WORDS: Record<MailAuth['kind'], string> = {
  password: 'a password',
  microsoft: 'Microsoft identity platform client credentials',
  google: 'a Google service account with domain-wide delegation',
  oauth_refresh: 'an OAuth2 refresh token',
  same_as_imap: 'the IMAP sign-in'
}

/** An error in the words of whoever raised it: the server's response text first, with its code. */
export const said = (error: unknown): string => {
  const e = error as { message?: string, code?: string, responseText?: string, response?: string }
  const text = e.responseText ?? e.response ?? e.message ?? String(error)
  return e.code !== undefined && !text.includes(e.code) ? `${text} (${e.code})` : text
}

/** The auth kind a sign-in really uses (SMTP's same_as_imap is the IMAP one). */
function authOf (row: MailboxSignIn, which: Which): MailAuth {
  if (which === 'graph') return row.graph?.auth ?? { kind: 'password' }
  const own = which === 'imap' ? row.imap?.auth : row.smtp?.auth
  if (own?.kind === 'same_as_imap') return row.imap?.auth ?? { kind: 'password' }
  return own ?? { kind: 'password' }
}

export async function checkMailbox (deps: MailboxCheckDeps, row: MailboxSignIn): Promise<MailboxCheck> {
  const steps: CheckStep[] = []
  const timeoutMs = deps.timeoutMs ?? 30_000
  const noAnswer = (what: string) => () => new Error(`no answer within ${timeoutMs / 1000} s while ${what}`)

  /** The credential step: a password needs none; a token request is reported on its own. */
  async function credential (which: Which): Promise<MailCredential | null> {
    const auth = authOf(row, which)
    const label = which === 'graph' ? 'Graph' : which.toUpperCase()
    try {
      const c = await deps.tokens.credential(row, which)
      if ('accessToken' in c) steps.push({ step: `${which} token`, ok: true, detail: `access token issued for ${c.user} by ${tokenUrlOf(auth as Parameters<typeof tokenUrlOf>[0])}` })
      return c
    } catch (error) {
      const hint = error instanceof MailTokenError && error.refused ? ` — ${label} signs in with ${KIND_WORDS[auth.kind]}: check its ids, secret and the consent or delegation (docs/providers.md)` : ''
      steps.push({ step: `${which} token`, ok: false, detail: `${said(error)}${hint}` })
      return null
    }
  }

  if (row.graph != null) {
    const c = await credential('graph')
    if (c !== null && 'accessToken' in c) {
      const dispatcher = outboundDispatcher(deps.deny)
      const graph = row.graph
      try {
        const client = createGraphClient({ dispatcher, deny: deps.deny, timeoutMs }, graph.baseUrl, async () => c.accessToken)
        const inbox = await client.folder(graph.user, 'inbox')
        steps.push({ step: 'graph mailbox', ok: true, detail: `read ${graph.user}'s ${inbox.displayName ?? 'Inbox'} (${inbox.totalItemCount ?? 0} messages) through ${graph.baseUrl}` })
      } catch (error) {
        steps.push({ step: 'graph mailbox', ok: false, detail: `${said(error)}. The token was issued: check the app's Mail.Read permission (admin consent) and that its access policy includes this mailbox (docs/providers.md, "Microsoft Graph push").` })
      } finally {
        await dispatcher.close()
      }
    }
  }

  if (row.imap === null) {
    steps.push({ step: 'imap', ok: true, detail: `not configured: this mailbox is fed by ${row.graph != null ? 'Graph push' : 'push'} only${row.graph != null ? '' : ' (no fallback sweep)'}` })
  } else {
    const c = await credential('imap')
    if (c !== null) {
      const { ImapFlow } = await import('imapflow')
      let client: InstanceType<typeof ImapFlow> | null = null
      try {
        // Resolving the host is part of the step: a name that does not resolve, or resolves to a
        // denied address, is this step failing, not a fault of mailrun's (it answered 503 or 500).
        client = new ImapFlow(await imapConnectOptions(deps.deny, row.imap, c))
        client.on('error', () => {})
        await withTimeout(client.connect(), timeoutMs, noAnswer(`connecting to ${row.imap.host}:${row.imap.port}`))
        const folders = await withTimeout(client.list(), timeoutMs, noAnswer('listing folders'))
        steps.push({ step: 'imap login', ok: true, detail: `logged in to ${row.imap.host}:${row.imap.port} as ${c.user}; ${folders.length} folders` })
      } catch (error) {
        const token = 'accessToken' in c
        if (token && (error as { authenticationFailed?: boolean }).authenticationFailed === true) deps.tokens.invalidate(row.id, c.accessToken)
        steps.push({
          step: 'imap login',
          ok: false,
          detail: `${said(error)}. ${token ? 'The token was issued but the server refused it: check that the application may open this mailbox (docs/providers.md).' : 'Check the host, port, tls and the app password (docs/providers.md, "IMAP").'}`
        })
      } finally {
        const opened = client
        await opened?.logout().catch(() => { opened.close() })
      }
    }
  }

  if (row.smtp === null && deps.defaultSmtpUrl === undefined) {
    steps.push({ step: 'smtp', ok: false, detail: 'no SMTP server for replies: senders get no answer. Set smtp on the mailbox, or MAILRUN_SMTP_URL' })
  } else {
    const c = smtpSignsIn(row.smtp) ? await credential('smtp') : null
    if (c !== null || !smtpSignsIn(row.smtp)) {
      const { default: nodemailer } = await import('nodemailer')
      let transport: ReturnType<typeof nodemailer.createTransport> | null = null
      try {
        transport = nodemailer.createTransport(await smtpTransportOptions(deps, row.smtp, c) as Parameters<typeof nodemailer.createTransport>[0])
        await withTimeout(transport.verify(), timeoutMs, noAnswer('talking to the SMTP server'))
        const where = row.smtp !== null ? `${row.smtp.host}:${row.smtp.port}` : 'the MAILRUN_SMTP_URL server'
        steps.push({ step: 'smtp login', ok: true, detail: `${where} accepted the connection${c !== null ? ` and the login of ${c.user}` : ''}` })
      } catch (error) {
        const token = c !== null && 'accessToken' in c
        if (token && (error as { responseCode?: number }).responseCode === 535) deps.tokens.invalidate(row.id, c.accessToken)
        steps.push({
          step: 'smtp login',
          ok: false,
          detail: `${said(error)}. Replies cannot be sent: ${token ? 'the token was issued but the server refused it: check that the application may send as this mailbox (docs/providers.md).' : `check the SMTP settings${row.smtp === null ? ' (MAILRUN_SMTP_URL)' : ''}.`}`
        })
      } finally {
        transport?.close()
      }
    }
  }
  return { ok: steps.every((s) => s.ok), steps }
}
