// How a launch target's answer is judged, whatever the platform: a fault retrying can fix
// (transient: the launch is tried again with backoff) or one it cannot (the launch fails with this
// message, worded for the person who reads it). `neverSent`: the request cannot have reached the
// target, so nothing can have started.

export class TargetError extends Error {
  readonly transient: boolean
  readonly neverSent: boolean
  readonly status: number | null
  readonly retryAfterMs: number | null

  constructor (message: string, options: { transient: boolean, neverSent?: boolean, status?: number | null, retryAfterMs?: number | null }) {
    super(message)
    this.name = 'TargetError'
    this.transient = options.transient
    this.neverSent = options.neverSent ?? false
    this.status = options.status ?? null
    this.retryAfterMs = options.retryAfterMs ?? null
  }

  /** Whether the server may have acted on the request: no answer after it was sent, or a 500, 502 or 504 (a 503 says it could not take it). */
  get mayHaveTakenEffect (): boolean {
    return this.status === null ? this.transient && !this.neverSent : this.status === 500 || this.status === 502 || this.status === 504
  }
}
