import type { Kysely } from 'kysely'
import { hashIngressToken } from '../admin/ingress-token.js'
import type { ChangeFeed } from '../db/change-feed.js'
import { KEPT_ROWS_MS, keptRows } from '../db/kept-rows.js'
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

/**
 * The mailbox behind each ingress token, kept for a few seconds (db/kept-rows.ts): every pushed
 * message opens with this look-up, and under load it was one of six statements a message. A change
 * to a mailbox (settings, deactivation, a rotated token, deletion — its own or its tenant's) is
 * announced and reaches the doors at once. Unknown tokens are never kept: each guess costs a
 * look-up and counts as a failure.
 */
export async function createIngressMailboxes (db: Kysely<Database>, changes: ChangeFeed, now: () => number = Date.now): Promise<IngressMailboxes> {
  const kept = await keptRows<IngressMailbox>(changes, 'mailbox', { ownerOf: (mailbox) => mailbox.id, ttlMs: KEPT_ROWS_MS, maxKept: 1_000, now })

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
      return await kept.get(hash, async () => await lookUp(hash))
    },
    close: kept.close
  }
}
