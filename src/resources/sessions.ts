import { randomBytes } from 'node:crypto'
import { authenticateKey } from '../auth/api-keys.js'
import { decoyHash, hashPassword, verifyPassword } from '../auth/passwords.js'
import type { UserRole } from '../db/schema.js'
import type { ResourceDeps } from './context.js'
import { tokenHash } from './users.js'

// Console sign-in: sessions are random ids in an HttpOnly cookie; the database keeps only their
// hash, so a copy of the database signs nobody in. They end at sign-out, after SESSION_TTL_MS,
// when the user is disabled or deleted, when their password changes, or "everywhere" at once.

export const SESSION_TTL_MS = 12 * 3600_000
const LAST_SEEN_RESOLUTION_MS = 60_000

export interface ConsoleUser {
  /** The instance admin (signed in with the instance-admin key): no user, no tenant, instance pages only. */
  instanceAdmin: boolean
  id: string
  tenantId: string
  tenantName: string
  email: string
  name: string
  role: UserRole
  /** Null: the browser's choice. */
  locale: 'en' | 'ru' | null
}

const INSTANCE_ADMIN: ConsoleUser = { instanceAdmin: true, id: '', tenantId: '', tenantName: '', email: '', name: 'instance admin', role: 'admin', locale: null }

export function sessionsResource (deps: ResourceDeps) {
  const { db } = deps

  async function open (userId: string | null): Promise<string> {
    const id = randomBytes(32).toString('base64url')
    await db.insertInto('console_sessions').values({ id_hash: tokenHash(id), user_id: userId, instance_admin: userId === null, expires_at: new Date(Date.now() + SESSION_TTL_MS) }).execute()
    return id
  }

  return {
    /** A new session for the address and password, or null (the same time whether the address exists or not). */
    async signIn (email: string, password: string): Promise<string | null> {
      const user = await db.selectFrom('users').select(['id', 'password_hash', 'disabled_at'])
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase())).executeTakeFirst()
      const matches = await verifyPassword(password, user?.password_hash ?? await decoyHash())
      if (user === undefined || user.password_hash === null || user.disabled_at !== null || !matches) return null
      return await open(user.id)
    },

    /** A session for the instance pages, for the holder of an instance-admin key; null for any other key. */
    async signInAdmin (key: string): Promise<string | null> {
      const principal = await authenticateKey(db, key.trim(), deps.config.adminKey)
      return principal?.scope === 'admin' ? await open(null) : null
    },

    /** Sets the password of the user a one-time link names; answers a session, or null for a used or expired link. */
    async setPassword (token: string, password: string): Promise<string | null> {
      const hash = await hashPassword(password)
      const userId = await db.transaction().execute(async (trx) => {
        const used = await trx.deleteFrom('user_tokens').where('token_hash', '=', tokenHash(token)).where('purpose', '=', 'set_password')
          .returning(['user_id', 'expires_at']).executeTakeFirst()
        if (used === undefined || used.expires_at.getTime() < Date.now()) return null
        await trx.updateTable('users').set({ password_hash: hash, updated_at: new Date() }).where('id', '=', used.user_id).where('disabled_at', 'is', null).execute()
        await trx.deleteFrom('console_sessions').where('user_id', '=', used.user_id).execute()
        return used.user_id
      })
      return userId === null ? null : await open(userId)
    },

    /** Whether a set-password link is still good (for showing the form). */
    async linkValid (token: string): Promise<boolean> {
      const row = await db.selectFrom('user_tokens').select('expires_at').where('token_hash', '=', tokenHash(token)).executeTakeFirst()
      return row !== undefined && row.expires_at.getTime() >= Date.now()
    },

    /** The signed-in user of a session id, or null when it is unknown, expired, or its user disabled. */
    async user (sessionId: string): Promise<ConsoleUser | null> {
      const session = await db.selectFrom('console_sessions').select(['instance_admin', 'expires_at', 'last_seen_at']).where('id_hash', '=', tokenHash(sessionId)).executeTakeFirst()
      if (session === undefined || session.expires_at.getTime() < Date.now()) return null
      if (session.instance_admin) return INSTANCE_ADMIN
      const row = await db.selectFrom('console_sessions')
        .innerJoin('users', 'users.id', 'console_sessions.user_id')
        .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
        .select(['users.id', 'users.tenant_id', 'tenants.name as tenant_name', 'users.email', 'users.name', 'users.role', 'users.locale', 'tenants.locale as tenant_locale', 'console_sessions.expires_at', 'console_sessions.last_seen_at', 'users.disabled_at'])
        .where('console_sessions.id_hash', '=', tokenHash(sessionId)).executeTakeFirst()
      if (row === undefined || row.expires_at.getTime() < Date.now() || row.disabled_at !== null) return null
      if (Date.now() - row.last_seen_at.getTime() > LAST_SEEN_RESOLUTION_MS) {
        await db.updateTable('console_sessions').set({ last_seen_at: new Date() }).where('id_hash', '=', tokenHash(sessionId)).execute()
      }
      return { instanceAdmin: false, id: row.id, tenantId: row.tenant_id, tenantName: row.tenant_name, email: row.email, name: row.name, role: row.role, locale: row.locale ?? row.tenant_locale }
    },

    async signOut (sessionId: string): Promise<void> {
      await db.deleteFrom('console_sessions').where('id_hash', '=', tokenHash(sessionId)).execute()
    },

    async signOutEverywhere (userId: string): Promise<void> {
      await db.deleteFrom('console_sessions').where('user_id', '=', userId).execute()
    },

    /** Ends every instance-admin session. */
    async signOutEveryAdmin (): Promise<void> {
      await db.deleteFrom('console_sessions').where('instance_admin', '=', true).execute()
    },

    /** Removes expired sessions and links. */
    async sweep (): Promise<void> {
      await db.deleteFrom('console_sessions').where('expires_at', '<', new Date()).execute()
      await db.deleteFrom('user_tokens').where('expires_at', '<', new Date()).execute()
    }
  }
}

export type SessionsResource = ReturnType<typeof sessionsResource>
