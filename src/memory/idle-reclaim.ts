import v8 from 'node:v8'
import vm from 'node:vm'

// V8 keeps its young generation as large as the busiest moment made it (32 MB on 64-bit Node 20)
// and leaves the garbage of start-up (migrations, compiled schemas and routes) to a collection an
// idle process never has, so an instance doing nothing held ~30 MB more than it needs. Once the
// process has been quiet for a while (after start-up, and again after each busy spell), one
// memory-reducing collection gives that back. Under load nothing changes: the young generation
// grows again as V8 sees fit. (Capping it for good with node --max-semi-space-size=4 kept idle
// memory as low, but cost throughput and tail latency in the push bench.)

type Collect = () => void

/** V8's "last resort" collection (also shrinks the young generation), through its gc extension; null where it is unavailable. */
function memoryReducingCollection (): Collect | null {
  try {
    // The gc extension is installed in contexts created after the flag is set: a new one is made for it.
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as ((options: { type: string, execution: string, flavor: string }) => void) | undefined
    if (typeof gc !== 'function') return null
    return () => { gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }) }
  } catch {
    return null
  }
}

export interface IdleReclaimOptions {
  /** A number that grows with work done (requests answered): unchanged means quiet. */
  activity: () => number
  /** How long the process must be quiet before memory is given back. */
  quietMs: number
  checkMs: number
  /** Told the young generation's size before and after, in bytes (the resident memory follows within a second). */
  onReclaim?: (young: { before: number, after: number }) => void
}

const youngGeneration = (): number => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0

/** V8 declines to shrink the young generation for a few seconds after it was busy: tries a second apart, twenty at most per quiet spell. */
const TRY_EVERY_MS = 1_000
const MAX_TRIES = 20

/** Gives memory back once per quiet spell; answers how to stop. */
export function startIdleReclaim (options: IdleReclaimOptions): () => void {
  const collect = memoryReducingCollection()
  if (collect === null) return () => {}
  let seen = options.activity()
  let quietSince = Date.now()
  let tries = 0
  let lastTry = 0
  let done = false
  const timer = setInterval(() => {
    const now = options.activity()
    if (now !== seen) {
      seen = now
      quietSince = Date.now()
      tries = 0
      done = false
      return
    }
    if (done || Date.now() - quietSince < options.quietMs || Date.now() - lastTry < TRY_EVERY_MS) return
    lastTry = Date.now()
    const before = youngGeneration()
    collect()
    tries++
    // Measured after start-up here: collections 3 and 4.5 s after the start left the young
    // generation at 32 MB, one at 6 s took it to 1 MB. So: again a second later until it shrinks.
    const after = youngGeneration()
    done = after < before || tries >= MAX_TRIES
    if (done) options.onReclaim?.({ before, after })
  }, options.checkMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
