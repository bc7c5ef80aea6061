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
}
