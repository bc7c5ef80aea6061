import type { ImapFlowOptions } from 'imapflow'
import type { ImapSettings } from '../db/schema.js'
import { resolveAllowed, type OutboundDeny } from '../net/outbound-guard.js'

/**
 * How mailrun connects to a mailbox's IMAP server, for the sweep and for `mailrun doctor` alike:
 * the tenant typed the host, so it is checked against the deny list after DNS and the checked
 * address is the one connected to (the name is kept for TLS).
 */
export async function imapConnectOptions (deny: OutboundDeny, settings: ImapSettings, password: string): Promise<ImapFlowOptions> {
  const [address] = await resolveAllowed(deny, settings.host)
  return {
    host: address?.address ?? settings.host,
    port: settings.port,
    secure: settings.tls,
    servername: settings.host,
    auth: { user: settings.user, pass: password },
    logger: false,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000
  }
}
