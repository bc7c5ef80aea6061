// Failed credentials (a wrong or missing API key, an unknown ingress token, a bad Mailgun
// signature or SendGrid password, a wrong console or SMTP door password) are counted per client
// address: past the limit in a minute, that address gets 429 (421 at the SMTP door) for the rest
// of the minute, whatever it sends, so guessing is slow. Counted in memory, and with a store in
// the database too: each failure is recorded there and the total every process counted raises this
// process's own count, so n replicas allow at most the limit plus one guess per replica, not n
// times the limit. Checking stays in memory: a request is never held up by the database to learn
// whether its address may try.

export interface FailureLimiter {
  /** Seconds until the address may try again, or null when it may now. */
  blocked: (address: string) => number | null
  /** Counts one failure for the address. */
  fail: (address: string) => void
}

/** Where failures are shared between processes: records one at `at` and answers the key's total over the `windowMs` before. */
export interface FailureStore {
  record: (key: string, at: Date, windowMs: number) => Promise<number>
}

export interface FailureLimiterOptions {
  max: number
  windowMs?: number
  maxAddresses?: number
  now?: () => number
  store?: FailureStore
  /** The key the store keeps for an address (a hashed account, say); the address itself by default. */
  storeKey?: (address: string) => string
  /** A failure the store could not record (the database away): counted here only. */
  onStoreError?: (error: unknown) => void
}

export function createFailureLimiter (options: FailureLimiterOptions): FailureLimiter {
  const windowMs = options.windowMs ?? 60_000
  const maxAddresses = options.maxAddresses ?? 50_000
  const now = options.now ?? Date.now
  const windows = new Map<string, { count: number, resetAt: number }>()
  const current = (address: string): { count: number, resetAt: number } | undefined => {
    const entry = windows.get(address)
    if (entry !== undefined && entry.resetAt <= now()) {
      windows.delete(address)
      return undefined
    }
    return entry
  }
  const entryFor = (address: string): { count: number, resetAt: number } => {
    const entry = current(address)
    if (entry !== undefined) return entry
    // Bounded memory under a spray from many addresses: the oldest windows go first.
    if (windows.size >= maxAddresses) {
      for (const [key, value] of windows) {
        if (value.resetAt <= now() || windows.size >= maxAddresses) windows.delete(key)
        if (windows.size < maxAddresses * 0.9) break
      }
    }
    // A window starts at an address's first failure (a fixed clock minute would let a guesser
    // straddle its end); the store sums its own buckets over the same length of time.
    const created = { count: 0, resetAt: now() + windowMs }
    windows.set(address, created)
    return created
  }
  return {
    blocked (address) {
      const entry = current(address)
      return entry !== undefined && entry.count >= options.max ? Math.max(1, Math.ceil((entry.resetAt - now()) / 1000)) : null
    },
    fail (address) {
      const entry = entryFor(address)
      entry.count++
      const store = options.store
      if (store === undefined) return
      const resetAt = entry.resetAt
      store.record(options.storeKey?.(address) ?? address, new Date(now()), windowMs).then((total) => {
        const same = current(address)
        if (same !== undefined && same.resetAt === resetAt && total > same.count) same.count = total
      }, (error: unknown) => { options.onStoreError?.(error) })
    }
  }
}
