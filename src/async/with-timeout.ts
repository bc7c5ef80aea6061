/**
 * The promise's outcome, or a rejection with `timeoutError()` after `ms`; the timer never outlives
 * the race. The promise itself is not cancelled: callers close what it was waiting on.
 */
export async function withTimeout<T> (promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(timeoutError()) }, ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** `withTimeout` whose error says which step took too long: "<what> took longer than <ms> ms". */
export async function stepWithin<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  return await withTimeout(promise, ms, () => new Error(`${what} took longer than ${ms} ms`))
}
