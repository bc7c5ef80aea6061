import type { ImapFlowOptions } from 'imapflow'
import type { ImapSettings } from '../db/schema.js'
import type { MailCredential } from '../mail-auth/mail-tokens.js'
import { resolveAllowed, type OutboundDeny } from '../net/outbound-guard.js'

/**
 * How mailrun connects to a mailbox's IMAP server, for the sweep and for `mailrun doctor` alike:
 * the tenant typed the host, so it is checked against the deny list after DNS and the checked
 * address is the one connected to (the name is kept for TLS). An access token signs in with
 * SASL XOAUTH2 (or OAUTHBEARER where the server offers it).
 */
export async function imapConnectOptions (deny: OutboundDeny, settings: ImapSettings, credential: MailCredential): Promise<ImapFlowOptions> {
  const [address] = await resolveAllowed(deny, settings.host)
  return {
    host: address?.address ?? settings.host,
    port: settings.port,
    secure: settings.tls,
    servername: settings.host,
    auth: 'accessToken' in credential ? { user: credential.user, accessToken: credential.accessToken } : { user: credential.user, pass: credential.pass },
    logger: false,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000
  }
}
