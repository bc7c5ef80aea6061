import { randomBytes } from 'node:crypto'
import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import { hashKey } from '../auth/api-keys.js'
import { hashPassword } from '../auth/passwords.js'
import { isUniqueViolation } from '../db/errors.js'
import { newestFirst } from '../db/pagination.js'
import type { UsersTable } from '../db/schema.js'
import { errors } from '../errors.js'
import { storedAddress } from '../mail/address.js'
import type { CreatedUser, User, UserCreate, UserPatch } from '../schemas/users.js'
import { assertInTenantDomains } from './tenant-domains.js'
import { cursorScope, type PageOf, type PageQuery, type ResourceDeps } from './context.js'

// A tenant's console users. A user created without a password gets a one-time link to choose one;
// only the link token's hash is stored.

export type UserView = Static<typeof User>
type UserRow = Selectable<UsersTable>

export const SET_PASSWORD_VALID_MS = 7 * 24 * 3600_000

/** One-time tokens are stored as their SHA-256, like API keys. */
export const tokenHash = hashKey

function present (row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    locale: row.locale,
    disabled: row.disabled_at !== null,
    passwordSet: row.password_hash !== null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

const emailTaken = (email: string): Error => new errors.Conflict(`a console user with the email ${email} already exists`)
const notFound = (id: string): Error => new errors.NotFound(`no user ${id}`)

export function usersResource (deps: ResourceDeps) {
  const { db } = deps

  /** A one-time set-password link for the user, replacing any earlier one. */
  async function issueSetPasswordLink (userId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    await db.deleteFrom('user_tokens').where('user_id', '=', userId).where('purpose', '=', 'set_password').execute()
    await db.insertInto('user_tokens').values({ token_hash: tokenHash(token), user_id: userId, purpose: 'set_password', expires_at: new Date(Date.now() + SET_PASSWORD_VALID_MS) }).execute()
    return `${deps.config.publicUrl}/console/set-password/${token}`
  }

  return {
    /** `anyDomain`: the instance admin, who sees every tenant, may use an address outside the tenant's domains. */
    async create (tenantId: string, body: Omit<Static<typeof UserCreate>, 'tenantId'>, options: { anyDomain?: boolean } = {}): Promise<Static<typeof CreatedUser>> {
      // Before anything else: an address outside the tenant's domains is refused alike whether or not it is taken.
      if (options.anyDomain !== true) await assertInTenantDomains(db, tenantId, 'email', body.email)
      const passwordHash = body.password !== undefined ? await hashPassword(body.password) : null
      let row: UserRow
      try {
        row = await db.insertInto('users').values({
          tenant_id: tenantId, email: storedAddress(body.email), name: body.name, role: body.role, password_hash: passwordHash
        }).returningAll().executeTakeFirstOrThrow()
      } catch (error) {
        if (isUniqueViolation(error)) throw emailTaken(body.email)
        throw error
      }
      return { ...present(row), setPasswordUrl: passwordHash === null ? await issueSetPasswordLink(row.id) : null }
    },

    async list (tenantId: string, query: PageQuery): Promise<PageOf<UserView>> {
      const { items, nextCursor } = await newestFirst(db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId), 'users', 'created_at', query, cursorScope(deps, tenantId))
      return { items: items.map(present), nextCursor }
    },

    async get (tenantId: string, id: string): Promise<UserView> {
      const row = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (row === undefined) throw notFound(id)
      return present(row)
    },

    /** Disabling a user or changing their password ends their sessions. */
    async update (tenantId: string, id: string, body: Static<typeof UserPatch>): Promise<UserView> {
      const passwordHash = body.password !== undefined ? await hashPassword(body.password) : undefined
      const row = await db.transaction().execute(async (trx) => {
        const updated = await trx.updateTable('users').set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.role !== undefined ? { role: body.role } : {}),
          ...(body.locale !== undefined ? { locale: body.locale } : {}),
          ...(body.disabled !== undefined ? { disabled_at: body.disabled ? new Date() : null } : {}),
          ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
          updated_at: new Date()
        }).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst()
        if (updated === undefined) throw notFound(id)
        if (body.disabled === true || passwordHash !== undefined) await trx.deleteFrom('console_sessions').where('user_id', '=', id).execute()
        return updated
      })
      return present(row)
    },

    async remove (tenantId: string, id: string): Promise<void> {
      const deleted = await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw notFound(id)
    },

    /** A new one-time link for a user who lost theirs, or never used it. */
    async resetPasswordLink (tenantId: string, id: string): Promise<string> {
      await this.get(tenantId, id)
      return await issueSetPasswordLink(id)
    }
  }
}

export type UsersResource = ReturnType<typeof usersResource>
