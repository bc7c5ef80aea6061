import { createHash } from 'node:crypto'
import type { Dispatcher } from 'undici'
import type { OutboundDeny } from '../net/outbound-guard.js'
import { createOrchestratorClient, type OrchestratorClient } from './client.js'
import type { OrchestratorConnection } from './connection.js'
import { createTokenProvider, type TokenProvider } from './token-provider.js'

export interface OrchestratorRegistry {
  /** A client for this connection; token caches survive between calls while credentials stay the same. */
  clientFor: (connection: OrchestratorConnection) => OrchestratorClient
}

function fingerprint (c: OrchestratorConnection): string {
  return createHash('sha256').update(JSON.stringify([c.id, c.kind, c.url, c.organization, c.tenantName, c.authMode, c.clientId, c.scopes, c.username, c.secret])).digest('hex')
}

export function createOrchestratorRegistry (deps: { dispatcher: Dispatcher, deny: OutboundDeny, timeoutMs?: number }): OrchestratorRegistry {
  const providers = new Map<string, TokenProvider>()
  const http = { dispatcher: deps.dispatcher, deny: deps.deny, ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}) }
  return {
    clientFor (connection) {
      const key = `${connection.id}:${fingerprint(connection)}`
      let tokens = providers.get(key)
      if (tokens === undefined) {
        // Changed credentials make a new key; drop the old connection's cache with it.
        for (const k of providers.keys()) if (k.startsWith(`${connection.id}:`)) providers.delete(k)
        tokens = createTokenProvider(connection, http)
        providers.set(key, tokens)
      }
      return createOrchestratorClient(connection, http, tokens)
    }
  }
}
