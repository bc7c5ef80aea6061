import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import { newestFirst } from '../db/pagination.js'
import type { AuditEventsTable } from '../db/schema.js'
import type { AuditEvent, AuditQuery } from '../schemas/audit.js'
import { cursorScope, type PageOf, type ResourceDeps } from './context.js'

// The audit trail: a tenant's admins read their tenant's changes (including what the instance
// admin changed in it); the instance admin reads every tenant's, and the instance's own.

export type AuditEventView = Static<typeof AuditEvent>

function present (row: Selectable<AuditEventsTable>): AuditEventView {
  return {
    id: row.id,
    at: row.at.toISOString(),
    tenantId: row.tenant_id,
    actor: { kind: row.actor_kind, id: row.actor_id, label: row.actor },
    via: row.via,
    action: row.action,
    resource: row.resource,
    resourceId: row.resource_id,
    fields: row.fields
  }
}

export function auditResource (deps: ResourceDeps) {
  const { db } = deps
  return {
    /** Newest first. `tenantId` null: the instance admin, who may filter by tenant. */
    async list (tenantId: string | null, query: Static<typeof AuditQuery>): Promise<PageOf<AuditEventView>> {
      let select = db.selectFrom('audit_events').selectAll()
      const tenant = tenantId ?? query.tenantId
      if (tenant !== undefined) select = select.where('tenant_id', '=', tenant)
      if (query.resource !== undefined) select = select.where('resource', '=', query.resource)
      if (query.since !== undefined) select = select.where('at', '>=', new Date(query.since))
      const { items, nextCursor } = await newestFirst(select, 'audit_events', 'at', query, cursorScope(deps, tenantId))
      return { items: items.map(present), nextCursor }
    }
  }
}
