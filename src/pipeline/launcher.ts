import type { Updateable } from 'kysely'
import type { CancelOutcome, CancelRequest } from '../launch/cancel-launch.js'
import type { MessagesTable, Problem } from '../db/schema.js'
import type { QueueRow } from '../spreadsheets/rows-to-items.js'

/** What became of a launch by the time the door answers. */
export interface LaunchOutcome {
  id: string
  state: string
  jobId?: number | null
  jobKey?: string | null
  reason?: string
}

/**
 * Turns a pending launch into an Orchestrator job. The pipeline only creates the pending launch
 * and calls this; without a launcher (no Orchestrator client wired) the launch stays pending.
 */
export interface Launcher {
  launch: (launchId: string) => Promise<LaunchOutcome>
  /**
   * Records a message's accepted decision with its launch, taken by this process as it is written
   * (one statement where the decision and the claim were two), and attempts it. Answers null when
   * someone else decided the message first; `outcome` is what `launch` would answer.
   */
  decideAndLaunch?: (decision: NewLaunch) => Promise<{ launchId: string, outcome: Promise<LaunchOutcome> } | null>
  /** Cancels a launch or stops its job (CANCEL by email); absent where nothing can be stopped. */
  cancel?: (request: CancelRequest) => Promise<CancelOutcome>
}

/** A message's accepted decision and the launch it makes (Launcher.decideAndLaunch). */
export interface NewLaunch {
  messageId: string
  /** The message's columns as decided; only a message still undecided ("received") takes them. */
  message: Updateable<MessagesTable>
  launch: {
    tenantId: string
    robotId: string | null
    senderId: string | null
    /** The plan as JSON. */
    plan: string
    /** When the launch queue would take it, should this process stop before attempting it. */
    nextAttemptAt: Date
  }
  /** A spreadsheet's rows, one queue item each. */
  rows?: { items: QueueRow[], skipped: { rows: number, problems: Problem[] } } | undefined
}
