import type { Kysely } from 'kysely'
import { hashIngressToken } from '../admin/ingress-token.js'
import type { ChangeFeed } from '../db/change-feed.js'
import type { Database } from '../db/schema.js'
import type { TargetMailbox } from '../pipeline/inbound-mail.js'

/** A mailbox as the HTTP doors need it: where the mail goes and the door's own credentials. */
export interface IngressMailbox extends TargetMailbox {
  mailgunSigningKeyEnc: string | null
  sendgridUsername: string | null
  sendgridPasswordEnc: string | null
}

export interface IngressMailboxes {
  /** The mailbox an ingress token opens, or null for a token that opens none. */
  find: (token: string) => Promise<IngressMailbox | null>
  close: () => Promise<void>
}

/** How long a looked-up mailbox is used without asking the database again, when no change was announced. */
export const INGRESS_MAILBOX_TTL_MS = 5_000
const MAX_KEPT = 1_000

/**
 * The mailbox behind each ingress token, kept for a few seconds: every pushed message opens with
 * this look-up, and under load it was one of six statements a message. A change to a mailbox
 * (settings, deactivation, a rotated token, deletion — its own or its tenant's) is announced on
 * the change feed, which drops what is kept here at once, on every instance; a lost announcement
 * leaves a changed mailbox in use for at most INGRESS_MAILBOX_TTL_MS. Unknown tokens are never
 * kept: each guess costs a look-up and counts as a failure.
 */
export async function createIngressMailboxes (db: Kysely<Database>, changes: ChangeFeed, now: () => number = Date.now): Promise<IngressMailboxes> {
  const kept = new Map<string, { mailbox: IngressMailbox, until: number }>()
  // A look-up that began before a change was announced must not keep what it read.
  let generation = 0
  const stop = await changes.listen('mailbox', (id) => {
    generation++
    if (id === null) { kept.clear(); return }
    for (const [hash, entry] of kept) if (entry.mailbox.id === id) kept.delete(hash)
  })

  async function lookUp (hash: string): Promise<IngressMailbox | null> {
    const row = await db.selectFrom('mailboxes')
      .select(['id', 'tenant_id', 'address', 'active', 'sender_auth', 'trusted_authserv_id', 'mailgun_signing_key_enc', 'sendgrid_username', 'sendgrid_password_enc'])
      .where('ingress_token_hash', '=', hash).executeTakeFirst()
    if (row === undefined) return null
    return {
      id: row.id,
      tenantId: row.tenant_id,
      address: row.address,
      active: row.active,
      senderAuth: row.sender_auth,
      trustedAuthservId: row.trusted_authserv_id,
      mailgunSigningKeyEnc: row.mailgun_signing_key_enc,
      sendgridUsername: row.sendgrid_username,
      sendgridPasswordEnc: row.sendgrid_password_enc
    }
  }

  return {
    async find (token) {
      const hash = hashIngressToken(token)
      const entry = kept.get(hash)
      if (entry !== undefined && entry.until > now()) return entry.mailbox
      kept.delete(hash)
      const startedAt = generation
      const mailbox = await lookUp(hash)
      if (mailbox !== null && generation === startedAt) {
        // The oldest goes first when the bound is reached (a Map keeps insertion order).
        if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value as string)
        kept.set(hash, { mailbox, until: now() + INGRESS_MAILBOX_TTL_MS })
      }
      return mailbox
    },
    close: stop
  }
}
