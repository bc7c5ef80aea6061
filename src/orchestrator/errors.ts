// What Orchestrator answered, kept whole for the launch record, with words a person can act on.
export class OrchestratorError extends Error {
  readonly status: number
  readonly errorCode: number | string | null
  readonly traceId: string | null
  readonly retryAfterMs: number | null
  /** True when trying again later may work (5xx, 429, timeouts, resets). */
  readonly transient: boolean
  /** Orchestrator's own words, kept for detection (the message above is ours). */
  readonly serverMessage: string
  /** The request never reached the server (refused, no route, no name): it cannot have had an effect. */
  readonly neverSent: boolean

  constructor (init: { status: number, message: string, errorCode?: number | string | null, traceId?: string | null, retryAfterMs?: number | null, transient?: boolean, serverMessage?: string, neverSent?: boolean }) {
    super(init.message)
    this.neverSent = init.neverSent ?? false
    this.serverMessage = init.serverMessage ?? ''
    this.name = 'OrchestratorError'
    this.status = init.status
    this.errorCode = init.errorCode ?? null
    this.traceId = init.traceId ?? null
    this.retryAfterMs = init.retryAfterMs ?? null
    this.transient = init.transient ?? (init.status === 429 || init.status >= 500 || init.status === 0)
  }
}

/**
 * Whether a failed request that creates something (StartJobs, AddQueueItem) may still have
 * created it: no answer at all (timeout, reset) or a server error that can come after the work
 * was done. A 4xx, a 429, a 503 and a request that never left are clear refusals.
 */
export function mayHaveTakenEffect (error: unknown): boolean {
  if (!(error instanceof OrchestratorError)) return true
  if (error.status === 0) return !error.neverSent && error.transient
  // 503: the server could not take the request (RFC 9110 §15.6.4). A 500 can come after the
  // insert, a 502 or 504 from a gateway whose backend carried on.
  return error.status >= 500 && error.status !== 503
}

/** The plain-words reason for a status and errorCode, as tenant admins and senders read it. */
export function explain (status: number, errorCode: number | string | null, serverMessage: string, context: { folder?: string, process?: string } = {}): string {
  const code = errorCode === null ? null : Number(errorCode)
  const folder = context.folder !== undefined ? ` "${context.folder}"` : ''
  if (status === 409 && code === 2818) return `no robot machine with an unattended runtime is available in folder${folder}`
  if (status === 409 && code === 1671) return `no user with an unattended robot is assigned to folder${folder}`
  if (status === 400 && code === 1100) return `Orchestrator folder${folder} was not found`
  if (status === 400 && code === 1101) return 'the request did not name a folder'
  if (status === 404 && code === 1002) return `process${context.process !== undefined ? ` "${context.process}"` : ''} was not found in folder${folder}`
  if (status === 401) return 'Orchestrator did not accept the credentials (expired or invalid)'
  if (status === 403) return 'the Orchestrator credentials lack a permission this needs (check the external application scopes or the user roles)'
  if (status === 429) return 'Orchestrator is throttling requests'
  if (status >= 500) return `Orchestrator had a server error (${status})`
  return serverMessage !== '' ? `Orchestrator answered ${status}: ${serverMessage}` : `Orchestrator answered ${status}`
}
