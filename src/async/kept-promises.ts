/**
 * Answers kept by key for a fixed time: the promise itself is kept, so callers asking while the
 * first is still in flight share it; the oldest entry goes first past `maxEntries`, so a burst of
 * distinct keys stays bounded. A rejected promise is dropped at once (the next caller asks anew)
 * unless `keepFailure` says the failure is itself an answer ("no such record").
 */
export interface KeptPromisesOptions {
  ttlMs: number
  maxEntries: number
  keepFailure?: (error: unknown) => boolean
  now?: () => number
}

export type KeptPromises<V> = (key: string, produce: () => Promise<V>) => Promise<V>

export function keptPromises<V> (options: KeptPromisesOptions): KeptPromises<V> {
  const now = options.now ?? Date.now
  const keepFailure = options.keepFailure ?? (() => false)
  const entries = new Map<string, { until: number, value: Promise<V> }>()
  return async (key, produce) => {
    const entry = entries.get(key)
    if (entry !== undefined && entry.until > now()) return await entry.value
    entries.delete(key)
    const value = produce()
    entries.set(key, { until: now() + options.ttlMs, value })
    if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string)
    value.catch((error: unknown) => {
      if (!keepFailure(error) && entries.get(key)?.value === value) entries.delete(key)
    })
    return await value
  }
}
