import type { ChangeFeed, ChangeTopic } from './change-feed.js'

/**
 * Rows every message reads and an admin rarely changes, kept in memory for a few seconds so each
 * message does not ask the database again. A change made through mailrun is announced on the change
 * feed (every instance hears it) and drops what is kept for its owner at once; a lost announcement,
 * or a change made behind mailrun's back, is seen within `ttlMs`. A read under way when a change is
 * announced is not kept. Nothing that was not found is kept.
 */
/** How long a kept row is used when no change was announced: what a change made behind mailrun's back waits for. */
export const KEPT_ROWS_MS = 5_000

export interface KeptRows<T> {
  /** The kept value for `key`, or what `read` answers (kept when found; a reader that never answers null gets a value). */
  get: <R extends T | null>(key: string, read: () => Promise<R>) => Promise<R>
  close: () => Promise<void>
}

export async function keptRows<T> (changes: ChangeFeed, topic: ChangeTopic, options: {
  /** Whose change drops the value: the id its topic announces. */
  ownerOf: (value: T) => string
  ttlMs: number
  maxKept: number
  now?: () => number
}): Promise<KeptRows<T>> {
  const now = options.now ?? Date.now
  const kept = new Map<string, { value: T, owner: string, until: number }>()
  let generation = 0
  const stop = await changes.listen(topic, (id) => {
    generation++
    if (id === null) { kept.clear(); return }
    for (const [key, entry] of kept) if (entry.owner === id) kept.delete(key)
  })
  return {
    async get<R extends T | null> (key: string, read: () => Promise<R>): Promise<R> {
      const entry = kept.get(key)
      // What is kept was found by a reader of the same key, so it is what that reader answers.
      if (entry !== undefined && entry.until > now()) return entry.value as R
      kept.delete(key)
      const startedAt = generation
      const value = await read()
      if (value !== null && generation === startedAt) {
        // The oldest goes first when the bound is reached (a Map keeps insertion order).
        if (kept.size >= options.maxKept) kept.delete(kept.keys().next().value as string)
        kept.set(key, { value, owner: options.ownerOf(value as T), until: now() + options.ttlMs })
      }
      return value
    },
    close: stop
  }
}
