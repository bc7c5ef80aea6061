import type { Kysely } from 'kysely'
import type { Config } from '../config.js'
import type { SecretBox } from '../crypto/secret-box.js'
import type { CursorScope } from '../db/pagination.js'
import type { Database } from '../db/schema.js'
import type { MailTokens } from '../mail-auth/mail-tokens.js'
import type { ChangeFeed, ChangeTopic } from '../db/change-feed.js'
import type { OrchestratorRegistry } from '../orchestrator/registry.js'

// What every resource module needs. The JSON API and the console call the same resource
// functions: the routes and pages hold HTTP and HTML, these hold the rules and the SQL.

export interface ResourceDeps {
  db: Kysely<Database>
  secrets: SecretBox
  config: Pick<Config, 'publicUrl' | 'outboundDeny' | 'adminKey' | 'smtpUrl'>
  orchestrator: OrchestratorRegistry
  mailTokens: MailTokens
  /** Told of every saved or deleted mailbox (its IMAP watcher starts over within a second, the doors drop the row they keep) and of every change to a tenant's settings, senders and robots (deciding mail reads them anew). */
  changes?: ChangeFeed
}

/**
 * Tells every instance that a row changed: 'mailbox' (the IMAP watcher starts over, the doors drop
 * the mailbox they keep) or 'tenant' (deciding the tenant's mail reads its settings, senders and
 * robots anew). The change is already saved: a failed announcement only leaves the kept copy to run
 * out (seconds) and the watcher to its next periodic pass.
 */
export async function announceChange (deps: ResourceDeps, topic: ChangeTopic, id: string): Promise<void> {
  await deps.changes?.announce(topic, id).catch(() => {})
}

/** A page request: how many, and the nextCursor of the previous page of the same list. */
export interface PageQuery { limit?: number, cursor?: string }

export interface PageOf<T> { items: T[], nextCursor: string | null }

/** Cursors are sealed and bound to the tenant that listed (null: the instance admin). */
export function cursorScope (deps: ResourceDeps, tenantId: string | null): CursorScope {
  return { box: deps.secrets, tenantId }
}
