import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import { generateKey } from '../auth/api-keys.js'
import type { ApiKeysTable } from '../db/schema.js'
import { errors } from '../errors.js'
import type { ApiKey } from '../schemas/tenants.js'
import type { ResourceDeps } from './context.js'

// A tenant's API keys: created (the key shown once, only its hash kept), listed, revoked.

export type ApiKeyView = Static<typeof ApiKey>

function present (row: Selectable<ApiKeysTable>): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null
  }
}

export function apiKeysResource (deps: ResourceDeps) {
  const { db } = deps
  return {
    /** A new tenant key; `key` is in this answer only. The caller checks the tenant exists. */
    async create (tenantId: string, name: string): Promise<ApiKeyView & { key: string }> {
      const { key, hash, prefix } = generateKey('tenant')
      const row = await db.insertInto('api_keys').values({ scope: 'tenant', tenant_id: tenantId, name, prefix, key_hash: hash }).returningAll().executeTakeFirstOrThrow()
      return { ...present(row), key }
    },

    async list (tenantId: string): Promise<ApiKeyView[]> {
      const rows = await db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').execute()
      return rows.map(present)
    },

    /** How a key is named where its actions are recorded: its prefix and name, never the key. */
    async label (keyId: string | null): Promise<string> {
      const key = keyId === null ? undefined : await db.selectFrom('api_keys').select(['name', 'prefix']).where('id', '=', keyId).executeTakeFirst()
      return key === undefined ? 'API key' : `API key ${key.prefix}${key.name !== '' ? ` (${key.name})` : ''}`
    },

    async revoke (tenantId: string, keyId: string): Promise<void> {
      const revoked = await db.updateTable('api_keys').set({ revoked_at: new Date() })
        .where('id', '=', keyId).where('tenant_id', '=', tenantId).where('revoked_at', 'is', null)
        .executeTakeFirst()
      if (revoked.numUpdatedRows === 0n) throw new errors.NotFound(`no active API key ${keyId} in tenant ${tenantId}`)
    }
  }
}

export type ApiKeysResource = ReturnType<typeof apiKeysResource>
