import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import type { OrchestratorConnectionsTable } from '../db/schema.js'
import { errors, fieldError } from '../errors.js'
import { allowedUrl } from './allowed-url.js'
import { checkConnection } from '../orchestrator/connection-test.js'
import { DEFAULT_SCOPES, loadConnection } from '../orchestrator/connection.js'
import { marker } from '../schemas/common.js'
import type { Connection, ConnectionCheck, ConnectionPut } from '../schemas/orchestrator.js'
import type { ResourceDeps } from './context.js'
import { refusePlaceholders } from './placeholders.js'

// A tenant's Orchestrator connection: one per tenant, replaced whole, secrets sealed and write-only.

export type ConnectionView = Static<typeof Connection>
type Body = Static<typeof ConnectionPut>

/** Which body field carries each sign-in mode's secret (the console's one secret field maps through it too). */
export const secretField = { client_credentials: 'clientSecret', password: 'password', refresh_token: 'userKey', token: 'accessToken' } as const

/** What each mode needs, named by field, so the admin knows exactly what to add. */
function requireFields (body: Body, keepsSecret: boolean): void {
  const need = (field: keyof Body, why: string): void => {
    const value = body[field]
    if (value === undefined || value === null) throw fieldError(field, `is required ${why}`)
  }
  if (body.kind === 'cloud') {
    need('organization', 'for a cloud connection')
    need('tenantName', 'for a cloud connection')
  }
  const mode = body.authMode as keyof typeof secretField
  if (mode === 'client_credentials' || mode === 'refresh_token') need('clientId', `with authMode ${mode}`)
  if (mode === 'password') {
    need('username', 'with authMode password')
    need('tenantName', 'with authMode password (the tenancy name)')
  }
  if (!keepsSecret) need(secretField[mode], `with authMode ${mode}`)
}

const none = (): Error => new errors.NotFound('no Orchestrator connection yet: create it with PUT /api/v1/orchestrator')

export function orchestratorResource (deps: ResourceDeps) {
  const { db } = deps

  function present (row: Selectable<OrchestratorConnectionsTable>): ConnectionView {
    return {
      id: row.id,
      kind: row.kind,
      url: row.url,
      organization: row.organization,
      tenantName: row.tenant_name,
      authMode: row.auth_mode,
      clientId: row.client_id,
      scopes: row.scopes,
      username: row.username,
      [secretField[row.auth_mode]]: marker(row.secret_enc),
      defaultFolder: row.default_folder,
      webhookSecret: marker(row.webhook_secret_enc),
      webhookUrl: `${deps.config.publicUrl}/webhooks/orchestrator/${row.id}`,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString()
    }
  }

  return {
    async get (tenantId: string): Promise<ConnectionView> {
      const row = await db.selectFrom('orchestrator_connections').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
      if (row === undefined) throw none()
      return present(row)
    },

    /** Creates or replaces the connection; a secret left out is kept while authMode stays the same. */
    async put (tenantId: string, body: Body): Promise<ConnectionView> {
      const current = await db.selectFrom('orchestrator_connections').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
      const mode = body.authMode as keyof typeof secretField
      const newSecret = body[secretField[mode]]
      const keepsSecret = newSecret === undefined && current?.auth_mode === mode && current.secret_enc !== null
      refusePlaceholders(body)
      requireFields(body, keepsSecret)
      await allowedUrl(deps.config.outboundDeny, 'url', body.url)
      const values = {
        kind: body.kind,
        url: body.url.replace(/\/+$/, ''),
        organization: body.organization ?? null,
        tenant_name: body.tenantName ?? null,
        auth_mode: mode,
        client_id: body.clientId ?? null,
        scopes: mode === 'client_credentials' ? (body.scopes ?? DEFAULT_SCOPES) : null,
        username: body.username ?? null,
        secret_enc: newSecret !== undefined ? deps.secrets.seal(newSecret) : (current?.secret_enc ?? null),
        default_folder: body.defaultFolder ?? null,
        webhook_secret_enc: body.webhookSecret === undefined ? (current?.webhook_secret_enc ?? null) : (body.webhookSecret === null ? null : deps.secrets.seal(body.webhookSecret)),
        // Another server may not know job references: detect again.
        supports_job_reference: current !== undefined && current.url === body.url.replace(/\/+$/, '') ? current.supports_job_reference : null,
        updated_at: new Date()
      }
      const row = await db.insertInto('orchestrator_connections').values({ tenant_id: tenantId, ...values })
        .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values)).returningAll().executeTakeFirstOrThrow()
      if (current !== undefined && (current.default_folder !== row.default_folder || current.url !== row.url || current.organization !== row.organization || current.tenant_name !== row.tenant_name)) {
        // Cached folder ids and release keys belong to the old server or folder.
        await db.updateTable('robots').set({ cached_folder_id: null, cached_release_key: null }).where('tenant_id', '=', tenantId).execute()
      }
      return present(row)
    },

    /** Authenticates, then finds the default folder: what worked, or exactly what failed. */
    async test (tenantId: string): Promise<Static<typeof ConnectionCheck>> {
      const connection = await loadConnection(db, deps.secrets, tenantId)
      if (connection === null) throw none()
      return await checkConnection(deps.orchestrator.clientFor(connection))
    }
  }
}

export type OrchestratorResource = ReturnType<typeof orchestratorResource>
