import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'

export type Principal =
  | { scope: 'admin', keyId: string | null }
  | { scope: 'tenant', tenantId: string, keyId: string }

const PREFIX = { admin: 'mra_', tenant: 'mrt_' } as const

export function hashKey (key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** A new random key; only its hash is stored, its first characters are kept to recognise it. */
export function generateKey (scope: 'admin' | 'tenant'): { key: string, hash: string, prefix: string } {
  const key = `${PREFIX[scope]}${randomBytes(32).toString('base64url')}`
  return { key, hash: hashKey(key), prefix: key.slice(0, 12) }
}

function sameHash (a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))
}

// Writing last_used_at on every request would turn each read into a write; a minute is precise
// enough to tell a live key from a forgotten one.
const LAST_USED_RESOLUTION_MS = 60_000

/** Who a bearer key belongs to, or null for an unknown or revoked key. */
export async function authenticateKey (db: Kysely<Database>, key: string, configuredAdminKey: string | undefined): Promise<Principal | null> {
  const hash = hashKey(key)
  if (configuredAdminKey !== undefined && sameHash(hash, hashKey(configuredAdminKey))) return { scope: 'admin', keyId: null }
  const row = await db.selectFrom('api_keys')
    .select(['id', 'scope', 'tenant_id', 'last_used_at'])
    .where('key_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  if (row === undefined) return null
  if (row.last_used_at === null || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_keys').set({ last_used_at: new Date() }).where('id', '=', row.id).execute()
  }
  if (row.scope === 'admin') return { scope: 'admin', keyId: row.id }
  return { scope: 'tenant', tenantId: row.tenant_id as string, keyId: row.id }
}

/**
 * Without MAILRUN_ADMIN_KEY, the first start creates an admin key and answers it, once, so that
 * it can be shown to the operator. Later starts find the stored hash and answer null.
 */
export async function ensureAdminKey (db: Kysely<Database>, configuredAdminKey: string | undefined): Promise<string | null> {
  if (configuredAdminKey !== undefined) return null
  return await db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('api_keys').select('id').where('scope', '=', 'admin').where('revoked_at', 'is', null).executeTakeFirst()
    if (existing !== undefined) return null
    const { key, hash, prefix } = generateKey('admin')
    await trx.insertInto('api_keys').values({ scope: 'admin', tenant_id: null, name: 'generated at first start', prefix, key_hash: hash }).execute()
    return key
  })
}
