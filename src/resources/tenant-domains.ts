import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../db/schema.js'
import { errors, fieldError } from '../errors.js'
import { parseMailbox } from '../mail/address.js'

// The mail domains a tenant owns. A mailbox or console user is registered only at an address in
// one of them, so a tenant can neither squat another's service address nor learn, from a refusal,
// what exists in another tenant: an address outside its domains is refused the same way whether
// or not anything is registered there.

type Db = Kysely<Database> | Transaction<Database>

/** A domain in the form addresses are stored in (lower-case Unicode), or null when it is not one. */
export function canonicalDomain (text: string): string | null {
  return parseMailbox(`x@${text.trim().replace(/\.$/, '')}`)?.domain.toLowerCase() ?? null
}

/** The tenant's domains, sorted. */
export async function domainsOf (db: Db, tenantId: string): Promise<string[]> {
  const rows = await db.selectFrom('tenant_domains').select('domain').where('tenant_id', '=', tenantId).orderBy('domain').execute()
  return rows.map((row) => row.domain)
}

/** Refuses an address (field `field`) that is not in one of the tenant's domains. */
export async function assertInTenantDomains (db: Db, tenantId: string, field: string, address: string): Promise<void> {
  const domain = parseMailbox(address)?.domain.toLowerCase()
  const owned = await domainsOf(db, tenantId)
  if (domain !== undefined && owned.includes(domain)) return
  if (owned.length === 0) {
    throw fieldError(field, 'cannot be registered yet: this tenant has no mail domains. The instance admin sets them (PATCH /api/v1/tenants/{id} with "domains")')
  }
  throw fieldError(field, `must be an address in this tenant's domains (${owned.join(', ')}); to use another domain, ask the instance admin to add it to the tenant`)
}

/**
 * Sets the tenant's domains to `wanted`. A domain another tenant owns is refused; one the tenant
 * already shares from before domains were owned (claimed_twice) may be kept, not newly taken.
 */
export async function replaceDomains (trx: Transaction<Database>, tenantId: string, wanted: string[]): Promise<void> {
  const domains: string[] = []
  for (const [index, text] of wanted.entries()) {
    const domain = canonicalDomain(text)
    if (domain === null) throw fieldError(`domains/${index}`, `"${text}" is not a domain name (acme.example)`)
    if (!domains.includes(domain)) domains.push(domain)
  }
  const current = await trx.selectFrom('tenant_domains').select('domain').where('tenant_id', '=', tenantId).execute()
  const kept = new Set(current.map((row) => row.domain))
  const added = domains.filter((domain) => !kept.has(domain))
  if (added.length > 0) {
    const owned = await trx.selectFrom('tenant_domains').select('domain').where('domain', 'in', added).where('tenant_id', '!=', tenantId).execute()
    if (owned.length > 0) {
      const taken = [...new Set(owned.map((row) => row.domain))].sort()
      throw domainsTaken(taken)
    }
  }
  const removed = [...kept].filter((domain) => !domains.includes(domain))
  if (removed.length > 0) await trx.deleteFrom('tenant_domains').where('tenant_id', '=', tenantId).where('domain', 'in', removed).execute()
  if (added.length > 0) await trx.insertInto('tenant_domains').values(added.map((domain) => ({ tenant_id: tenantId, domain }))).execute()
}

/** Only the instance admin sets domains, so naming the taken ones tells nobody what they may not see. */
export const domainsTaken = (domains: string[]): Error =>
  new errors.Conflict(`${domains.join(', ')} ${domains.length === 1 ? 'belongs' : 'belong'} to another tenant: a domain belongs to one tenant. Remove it there first.`)

/** Domains more than one tenant holds (from before domains were owned), with their tenants. */
export async function domainsClaimedTwice (db: Db): Promise<Array<{ domain: string, tenants: string[] }>> {
  const rows = await db.selectFrom('tenant_domains').innerJoin('tenants', 'tenants.id', 'tenant_domains.tenant_id')
    .select(['tenant_domains.domain', 'tenants.name']).orderBy('tenant_domains.domain').orderBy('tenants.name').execute()
  const byDomain = new Map<string, string[]>()
  for (const row of rows) byDomain.set(row.domain, [...(byDomain.get(row.domain) ?? []), row.name])
  return [...byDomain].filter(([, tenants]) => tenants.length > 1).map(([domain, tenants]) => ({ domain, tenants }))
}
