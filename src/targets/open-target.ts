import type { SecretBox } from '../crypto/secret-box.js'
import type { AutomationAnywhereSettings, ConnectionKind, PowerAutomateSettings } from '../db/schema.js'
import type { AutomationAnywhereConnection } from './automation-anywhere/control-room-client.js'
import type { HttpConnection } from './http/http-target.js'
import type { PowerAutomateConnection } from './power-automate/dataverse-client.js'

// A stored connection (connections row) opened for its client: secrets unsealed, settings read.

export interface StoredTarget { id: string, kind: ConnectionKind, url_enc: string, secret_enc: string, settings: Partial<PowerAutomateSettings & AutomationAnywhereSettings> }

export type TargetConnection =
  | ({ kind: 'http', id: string } & HttpConnection)
  | ({ kind: 'power_automate' } & PowerAutomateConnection)
  | ({ kind: 'automation_anywhere' } & AutomationAnywhereConnection)

export function openPowerAutomate (row: StoredTarget, secrets: SecretBox): PowerAutomateConnection {
  return {
    id: row.id,
    environmentUrl: secrets.open(row.url_enc),
    tenantId: row.settings.tenantId ?? '',
    clientId: row.settings.clientId ?? '',
    clientSecret: secrets.open(row.secret_enc),
    authority: row.settings.authority ?? 'https://login.microsoftonline.com'
  }
}

export function openAutomationAnywhere (row: StoredTarget, secrets: SecretBox): AutomationAnywhereConnection {
  return { id: row.id, controlRoomUrl: secrets.open(row.url_enc), username: row.settings.username ?? '', apiKey: secrets.open(row.secret_enc) }
}

export function openTarget (row: StoredTarget, secrets: SecretBox): TargetConnection {
  if (row.kind === 'power_automate') return { kind: 'power_automate', ...openPowerAutomate(row, secrets) }
  if (row.kind === 'automation_anywhere') return { kind: 'automation_anywhere', ...openAutomationAnywhere(row, secrets) }
  return { kind: 'http', id: row.id, url: secrets.open(row.url_enc), secret: secrets.open(row.secret_enc) }
}
