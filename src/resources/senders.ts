import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import { isUniqueViolation } from '../db/errors.js'
import { newestFirst } from '../db/pagination.js'
import type { SendersTable } from '../db/schema.js'
import { errors } from '../errors.js'
import { storedAddress } from '../mail/address.js'
import { SenderCreate, type Erasure, type Sender, type SenderPatch } from '../schemas/senders.js'
import { checked } from '../schemas/validate.js'
import { eraseAddress, tracesInProgress } from '../retention/erase-address.js'
import { announceChange, cursorScope, type PageOf, type PageQuery, type ResourceDeps } from './context.js'

// A tenant's senders: the allow-list of people who may launch robots by email.

export type SenderView = Static<typeof Sender>

function present (row: Selectable<SendersTable>): SenderView {
  return { id: row.id, fullName: row.full_name, email: row.email, active: row.active, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() }
}

const emailTaken = (email: string): Error => new errors.Conflict(`a sender with the email ${email} already exists in this tenant`)
const notFound = (id: string): Error => new errors.NotFound(`no sender ${id}`)

export function sendersResource (deps: ResourceDeps) {
  const { db } = deps
  return {
    async create (tenantId: string, body: Static<typeof SenderCreate>): Promise<SenderView> {
      try {
        const row = await db.insertInto('senders').values({
          tenant_id: tenantId, full_name: body.fullName, email: storedAddress(body.email), active: body.active ?? true
        }).returningAll().executeTakeFirstOrThrow()
        await announceChange(deps, 'tenant', tenantId)
        return present(row)
      } catch (error) {
        if (isUniqueViolation(error)) throw emailTaken(body.email)
        throw error
      }
    },

    /** Newest first; `search` matches part of the name or the address, case-insensitively. */
    async list (tenantId: string, query: PageQuery & { search?: string }): Promise<PageOf<SenderView>> {
      let select = db.selectFrom('senders').selectAll().where('tenant_id', '=', tenantId)
      const search = query.search?.trim().toLowerCase()
      if (search !== undefined && search !== '') {
        const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
        select = select.where((eb) => eb.or([eb(eb.fn('lower', ['full_name']), 'like', pattern), eb(eb.fn('lower', ['email']), 'like', pattern)]))
      }
      const { items, nextCursor } = await newestFirst(select, 'senders', 'created_at', query, cursorScope(deps, tenantId))
      return { items: items.map(present), nextCursor }
    },

    async get (tenantId: string, id: string): Promise<SenderView> {
      const row = await db.selectFrom('senders').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (row === undefined) throw notFound(id)
      return present(row)
    },

    async update (tenantId: string, id: string, body: Static<typeof SenderPatch>): Promise<SenderView> {
      try {
        const row = await db.updateTable('senders').set({
          ...(body.fullName !== undefined ? { full_name: body.fullName } : {}),
          ...(body.email !== undefined ? { email: storedAddress(body.email) } : {}),
          ...(body.active !== undefined ? { active: body.active } : {}),
          updated_at: new Date()
        }).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst()
        if (row === undefined) throw notFound(id)
        await announceChange(deps, 'tenant', tenantId)
        return present(row)
      } catch (error) {
        if (isUniqueViolation(error)) throw emailTaken(body.email ?? '')
        throw error
      }
    },

    /** Adds many senders; each row succeeds or fails on its own, with the reason. */
    /** Each row added, or refused with its reason (and, for a field, which: the console says it in the user's words). */
    async importRows (tenantId: string, rows: Array<{ row: number, fullName: string, email: string }>): Promise<{ created: number, problems: Array<{ row: number, message: string, details?: Array<{ field: string, message: string }> }> }> {
      const problems: Array<{ row: number, message: string, details?: Array<{ field: string, message: string }> }> = []
      let created = 0
      for (const r of rows) {
        try {
          await this.create(tenantId, checked(SenderCreate, { fullName: r.fullName, email: r.email }))
          created++
        } catch (error) {
          const status = (error as { statusCode?: number }).statusCode
          if (status !== 400 && status !== 409) throw error
          const details = (error as { details?: Array<{ field: string, message: string }> }).details
          problems.push({ row: r.row, message: (error as Error).message.replace(/^Invalid body: /, ''), ...(details !== undefined ? { details } : {}) })
        }
      }
      return { created, problems }
    },

    /**
     * Erases the sender: every trace of their address and of what they wrote and were answered in
     * the tenant's messages, launches and replies, then the sender. Refused while some of it is
     * still being handled (a job running): erasing it then would lose track of the job.
     */
    async erase (tenantId: string, id: string): Promise<Static<typeof Erasure>> {
      const sender = await db.selectFrom('senders').select(['id', 'email']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (sender === undefined) throw notFound(id)
      const busy = await tracesInProgress(db, tenantId, sender.email, sender.id)
      if (busy > 0) throw Object.assign(new errors.Conflict(`${busy} of this sender's messages ${busy === 1 ? 'is' : 'are'} still being handled (not decided yet, or a job still running): cancel the launches or wait until they end, then erase`), { erasureBusy: busy })
      const removed = await eraseAddress(db, tenantId, sender.email, sender.id)
      await db.deleteFrom('senders').where('tenant_id', '=', tenantId).where('id', '=', id).execute()
      await announceChange(deps, 'tenant', tenantId)
      return { senderId: id, ...removed }
    },

    /** Removes the sender, and with it from every robot's allow-list. */
    async remove (tenantId: string, id: string): Promise<void> {
      const deleted = await db.deleteFrom('senders').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw notFound(id)
      await announceChange(deps, 'tenant', tenantId)
    }
  }
}

export type SendersResource = ReturnType<typeof sendersResource>
