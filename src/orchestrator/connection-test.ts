import type { OrchestratorClient } from './client.js'
import { OrchestratorError } from './errors.js'

export interface ConnectionCheck {
  ok: boolean
  steps: Array<{ step: 'authenticate' | 'folder', ok: boolean, detail: string }>
}

function reason (error: unknown): string {
  if (error instanceof OrchestratorError) {
    // A network failure's code is already in its message; Orchestrator's errorCode is not.
    const extra = [error.errorCode !== null && error.status !== 0 ? `errorCode ${String(error.errorCode)}` : null, error.traceId !== null ? `traceId ${error.traceId}` : null].filter(Boolean)
    return `${error.message}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`
  }
  return error instanceof Error ? error.message : String(error)
}

/** Authenticate, then find the default folder: what worked, or exactly what failed. */
export async function checkConnection (client: OrchestratorClient): Promise<ConnectionCheck> {
  const steps: ConnectionCheck['steps'] = []
  try {
    await client.authenticate()
    steps.push({ step: 'authenticate', ok: true, detail: `authenticated with ${client.connection.authMode}` })
  } catch (error) {
    steps.push({ step: 'authenticate', ok: false, detail: reason(error) })
    return { ok: false, steps }
  }
  const folder = client.connection.defaultFolder
  if (folder === null) {
    steps.push({ step: 'folder', ok: true, detail: 'no default folder configured: every robot must name its folder' })
    return { ok: true, steps }
  }
  try {
    const found = await client.findFolder(folder)
    if (found === null) steps.push({ step: 'folder', ok: false, detail: `folder "${folder}" was not found: check defaultFolder (the fully qualified name, e.g. Finance/Reports) and that the credentials can see it` })
    else steps.push({ step: 'folder', ok: true, detail: `found folder "${found.FullyQualifiedName}" (id ${found.Id})` })
  } catch (error) {
    steps.push({ step: 'folder', ok: false, detail: reason(error) })
  }
  return { ok: steps.every((s) => s.ok), steps }
}
