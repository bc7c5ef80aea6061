import type { OrchestratorConnection } from './connection.js'

// Where each request goes. Automation Cloud puts Orchestrator under /{org}/{tenant}/orchestrator_
// and identity under /{org}/identity_; an on-premises server answers at its base URL.

const trim = (url: string): string => url.replace(/\/+$/, '')
const segment = (value: string | null): string => encodeURIComponent(value ?? '')

export function orchestratorBase (c: OrchestratorConnection): string {
  return c.kind === 'cloud' ? `${trim(c.url)}/${segment(c.organization)}/${segment(c.tenantName)}/orchestrator_` : trim(c.url)
}

export function clientCredentialsTokenUrl (c: OrchestratorConnection): string {
  return c.kind === 'cloud' ? `${trim(c.url)}/${segment(c.organization)}/identity_/connect/token` : `${trim(c.url)}/identity/connect/token`
}

export function passwordAuthenticateUrl (c: OrchestratorConnection): string {
  return `${trim(c.url)}/api/Account/Authenticate`
}

/** The legacy refresh-token endpoint lives on account.uipath.com for the real cloud. */
export function refreshTokenUrl (c: OrchestratorConnection): string {
  const base = trim(c.url)
  return base === 'https://cloud.uipath.com' ? 'https://account.uipath.com/oauth/token' : `${base}/oauth/token`
}

/** An OData string literal: single quotes doubled, as OData requires. */
export function odataString (value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}
