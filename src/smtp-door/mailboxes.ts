import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import type { TargetMailbox } from '../pipeline/inbound-mail.js'

/** The active service mailboxes among these addresses (case-insensitive), by lower-cased address. */
export async function serviceMailboxes (db: Kysely<Database>, addresses: string[]): Promise<Map<string, TargetMailbox>> {
  const wanted = [...new Set(addresses.map((a) => a.toLowerCase()))]
  if (wanted.length === 0) return new Map()
  const rows = await db.selectFrom('mailboxes')
    .select(['id', 'tenant_id', 'address', 'active', 'sender_auth', 'trusted_authserv_id'])
    .where((eb) => eb(eb.fn('lower', ['address']), 'in', wanted))
    .where('active', '=', true)
    .execute()
  return new Map(rows.map((r) => [r.address.toLowerCase(), { id: r.id, tenantId: r.tenant_id, address: r.address, active: r.active, senderAuth: r.sender_auth, trustedAuthservId: r.trusted_authserv_id }]))
}
