import type { CancelOutcome, CancelRequest } from '../launch/cancel-launch.js'

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
  /** Cancels a launch or stops its job (CANCEL by email); absent where nothing can be stopped. */
  cancel?: (request: CancelRequest) => Promise<CancelOutcome>
}
