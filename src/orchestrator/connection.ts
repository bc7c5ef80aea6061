import type { Kysely, Selectable } from 'kysely'
import type { SecretBox } from '../crypto/secret-box.js'
import type { Database, OrchestratorConnectionsTable } from '../db/schema.js'

export type AuthMode = 'client_credentials' | 'password' | 'refresh_token' | 'token'

/** A tenant's Orchestrator connection with its secret opened, ready for the client. */
export interface OrchestratorConnection {
  id: string
  tenantId: string
  kind: 'cloud' | 'onprem'
  url: string
  organization: string | null
  tenantName: string | null
  authMode: AuthMode
  clientId: string | null
  scopes: string | null
  username: string | null
  /** clientSecret, password, userKey or accessToken, depending on authMode. */
  secret: string | null
  defaultFolder: string | null
  /** Whether the server knows job references: null until a launch finds out. */
  supportsJobReference: boolean | null
}

export const DEFAULT_SCOPES = 'OR.Jobs OR.Folders.Read OR.Execution.Read OR.Queues'

export async function loadConnection (db: Kysely<Database>, secrets: SecretBox, tenantId: string): Promise<OrchestratorConnection | null> {
  const row = await db.selectFrom('orchestrator_connections').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
  return row === undefined ? null : openConnection(row, secrets)
}

/** The connection a stored row describes, its secret opened. */
export function openConnection (row: Omit<Selectable<OrchestratorConnectionsTable>, 'created_at' | 'updated_at'>, secrets: SecretBox): OrchestratorConnection {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    url: row.url,
    organization: row.organization,
    tenantName: row.tenant_name,
    authMode: row.auth_mode,
    clientId: row.client_id,
    scopes: row.scopes,
    username: row.username,
    secret: row.secret_enc === null ? null : secrets.open(row.secret_enc),
    defaultFolder: row.default_folder,
    supportsJobReference: row.supports_job_reference
  }
}
