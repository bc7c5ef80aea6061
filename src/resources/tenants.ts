import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import { isUniqueViolation } from '../db/errors.js'
import { newestFirst } from '../db/pagination.js'
import type { TenantsTable } from '../db/schema.js'
import { errors } from '../errors.js'
import { storedAddress } from '../mail/address.js'
import type { Tenant, TenantCreate, TenantPatch } from '../schemas/tenants.js'
import { timeZoneOf } from '../alerts/digest-period.js'
import { domainsOf, domainsTaken, replaceDomains } from './tenant-domains.js'
import { announceChange, cursorScope, type PageOf, type PageQuery, type ResourceDeps } from './context.js'

// Tenants: the instance admin's resource.

export type TenantView = Static<typeof Tenant>
type TenantRow = Selectable<TenantsTable> & { mailbox_count: number | string | bigint, domains: string[] }

function present (row: TenantRow): TenantView {
  return {
    id: row.id,
    name: row.name,
    domains: row.domains,
    maxMailboxes: row.max_mailboxes,
    locale: row.locale,
    contactEmail: row.contact_email,
    retentionDays: row.retention_days,
    timeZone: row.time_zone,
    mailboxCount: Number(row.mailbox_count),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

const nameTaken = (name: string): Error => new errors.Conflict(`a tenant named "${name}" already exists: choose another name`)
export const tenantNotFound = (id: string): Error => new errors.NotFound(`no tenant ${id}`)

export function tenantsResource (deps: ResourceDeps) {
  const { db } = deps
  const selectTenants = () => db.selectFrom('tenants').selectAll('tenants').select((eb) =>
    eb.selectFrom('mailboxes').whereRef('mailboxes.tenant_id', '=', 'tenants.id').select((e) => e.fn.countAll<number>().as('n')).as('mailbox_count'))

  async function findRow (id: string): Promise<TenantRow> {
    const row = await selectTenants().where('tenants.id', '=', id).executeTakeFirst()
    if (row === undefined) throw tenantNotFound(id)
    return { ...row, domains: await domainsOf(db, id) } as TenantRow
  }

  /** Unique violations: the name, or (the partial index) another tenant claiming a domain at the same moment. */
  function conflict (error: unknown, body: { name?: string, domains?: string[] }): unknown {
    if (isUniqueViolation(error, 'tenant_domains_one_owner')) return domainsTaken(body.domains ?? [])
    if (isUniqueViolation(error)) return nameTaken(body.name ?? '')
    return error
  }

  return {
    async create (body: Static<typeof TenantCreate>): Promise<TenantView> {
      try {
        const id = await db.transaction().execute(async (trx) => {
          const row = await trx.insertInto('tenants').values({
            name: body.name, max_mailboxes: body.maxMailboxes, locale: body.locale ?? 'en', contact_email: body.contactEmail === undefined || body.contactEmail === null ? null : storedAddress(body.contactEmail), retention_days: body.retentionDays ?? null, time_zone: timeZoneOf(body.timeZone ?? 'UTC')
          }).returning('id').executeTakeFirstOrThrow()
          await replaceDomains(trx, row.id, body.domains ?? [])
          return row.id
        })
        return present(await findRow(id))
      } catch (error) {
        throw conflict(error, body)
      }
    },

    async list (query: PageQuery): Promise<PageOf<TenantView>> {
      const { items, nextCursor } = await newestFirst(selectTenants(), 'tenants', 'created_at', query, cursorScope(deps, null))
      const ids = items.map((row) => row.id)
      const owned = ids.length === 0 ? [] : await db.selectFrom('tenant_domains').select(['tenant_id', 'domain']).where('tenant_id', 'in', ids).orderBy('domain').execute()
      const domains = (id: string): string[] => owned.filter((row) => row.tenant_id === id).map((row) => row.domain)
      return { items: items.map((row) => present({ ...row, domains: domains(row.id) } as TenantRow)), nextCursor }
    },

    async get (id: string): Promise<TenantView> {
      return present(await findRow(id))
    },

    async update (id: string, body: Static<typeof TenantPatch>): Promise<TenantView> {
      const current = await findRow(id)
      if (body.maxMailboxes !== undefined && body.maxMailboxes < Number(current.mailbox_count)) {
        throw new errors.Conflict(`the tenant has ${current.mailbox_count} mailboxes: delete some before lowering maxMailboxes to ${body.maxMailboxes}`)
      }
      try {
        await db.transaction().execute(async (trx) => {
          await trx.updateTable('tenants').set({
            ...(body.name !== undefined ? { name: body.name } : {}),
            ...(body.maxMailboxes !== undefined ? { max_mailboxes: body.maxMailboxes } : {}),
            ...(body.locale !== undefined ? { locale: body.locale } : {}),
            ...(body.contactEmail !== undefined ? { contact_email: body.contactEmail === null ? null : storedAddress(body.contactEmail) } : {}),
            ...(body.retentionDays !== undefined ? { retention_days: body.retentionDays } : {}),
            ...(body.timeZone !== undefined ? { time_zone: timeZoneOf(body.timeZone) } : {}),
            updated_at: new Date()
          }).where('id', '=', id).execute()
          // Mailboxes already registered in a domain taken away keep working: domains rule new registrations.
          if (body.domains !== undefined) await replaceDomains(trx, id, body.domains)
        })
      } catch (error) {
        throw conflict(error, body)
      }
      await announceChange(deps, 'tenant', id)
      return present(await findRow(id))
    },

    /** Deletes the tenant and everything it owns. */
    async remove (id: string): Promise<void> {
      const mailboxes = await db.selectFrom('mailboxes').select('id').where('tenant_id', '=', id).execute()
      const deleted = await db.deleteFrom('tenants').where('id', '=', id).executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw tenantNotFound(id)
      // Its mailboxes went with it: the doors and the IMAP watcher stop using them at once.
      for (const mailbox of mailboxes) await announceChange(deps, 'mailbox', mailbox.id)
      await announceChange(deps, 'tenant', id)
      // Its counters have no foreign key (its messages count themselves down as they go).
      await db.deleteFrom('activity_hourly').where('tenant_id', '=', id).execute()
    },

    /** Throws NotFound unless the tenant exists. */
    async assertExists (id: string): Promise<void> {
      const row = await db.selectFrom('tenants').select('id').where('id', '=', id).executeTakeFirst()
      if (row === undefined) throw tenantNotFound(id)
    }
  }
}

export type TenantsResource = ReturnType<typeof tenantsResource>
