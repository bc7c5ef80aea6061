// Failed credentials (a wrong or missing API key, an unknown ingress token, a bad Mailgun
// signature or SendGrid password) are counted per client address: past the limit in a minute,
// that address gets 429 for the rest of the minute, whatever it sends, so guessing a key or a
// token is slow. Counted in memory per process; a replica set multiplies the allowance by its size.

export interface FailureLimiter {
  /** Seconds until the address may try again, or null when it may now. */
  blocked: (address: string) => number | null
  /** Counts one failure for the address. */
  fail: (address: string) => void
}

export function createFailureLimiter (options: { max: number, windowMs?: number, maxAddresses?: number, now?: () => number }): FailureLimiter {
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
  return {
    blocked (address) {
      const entry = current(address)
      return entry !== undefined && entry.count >= options.max ? Math.max(1, Math.ceil((entry.resetAt - now()) / 1000)) : null
    },
    fail (address) {
      const entry = current(address)
      if (entry !== undefined) {
        entry.count++
        return
      }
      // Bounded memory under a spray from many addresses: the oldest windows go first.
      if (windows.size >= maxAddresses) {
        for (const [key, value] of windows) {
          if (value.resetAt <= now() || windows.size >= maxAddresses) windows.delete(key)
          if (windows.size < maxAddresses * 0.9) break
        }
      }
      windows.set(address, { count: 1, resetAt: now() + windowMs })
    }
  }
}
