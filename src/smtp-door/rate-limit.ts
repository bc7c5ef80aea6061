/** Messages per client address in the current minute; a fixed window, forgotten when it ends. */
export function perMinuteLimiter (max: number, now: () => number = Date.now): (key: string) => boolean {
  let window = Math.floor(now() / 60_000)
  let counts = new Map<string, number>()
  return (key) => {
    const current = Math.floor(now() / 60_000)
    if (current !== window) { window = current; counts = new Map() }
    const used = (counts.get(key) ?? 0) + 1
    counts.set(key, used)
    return used <= max
  }
}
