// Group commit for statements that many requests make at once: calls that arrive while a batch is
// running wait for it to end and then go together, in one statement and one round trip (one WAL
// flush instead of one per call). Alone, a call goes at the next turn of the event loop, so an
// idle server adds no delay; under load the batches grow by themselves, with no timer to tune.

export interface BatcherOptions<I, O> {
  /** Runs one batch: answers one result per item, in the same order. */
  run: (items: I[]) => Promise<O[]>
  /** Runs one item alone: used for every item of a batch that failed, so one bad item fails only its own call. */
  runOne: (item: I) => Promise<O>
  /** The most items in one batch (statements have a parameter limit). */
  maxItems: number
}

export type Batched<I, O> = (item: I) => Promise<O>

export function createBatcher<I, O> (options: BatcherOptions<I, O>): Batched<I, O> {
  let waiting: Array<{ item: I, resolve: (value: O) => void, reject: (error: unknown) => void }> = []
  let running = false
  let scheduled = false

  async function runBatch (batch: typeof waiting): Promise<void> {
    let results: O[] | null = null
    try {
      if (batch.length > 1) {
        results = await options.run(batch.map((b) => b.item))
        if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} answered ${results.length} results`)
      }
    } catch {
      results = null
    }
    if (results !== null) {
      batch.forEach((b, i) => { b.resolve(results[i] as O) })
      return
    }
    await Promise.all(batch.map(async (b) => { try { b.resolve(await options.runOne(b.item)) } catch (error) { b.reject(error) } }))
  }

  function flush (): void {
    scheduled = false
    if (running || waiting.length === 0) return
    running = true
    const batch = waiting.slice(0, options.maxItems)
    waiting = waiting.slice(batch.length)
    runBatch(batch).finally(() => {
      running = false
      if (waiting.length > 0) flush()
    }).catch(() => {})
  }

  return async (item) => await new Promise<O>((resolve, reject) => {
    waiting.push({ item, resolve, reject })
    if (!running && !scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  })
}
