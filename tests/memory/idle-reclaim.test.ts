import v8 from 'node:v8'
import t from 'tap'
import { startIdleReclaim } from '../../src/memory/idle-reclaim.js'

// A quiet process gives back the young generation its busiest moment grew; a busy one is left alone.

const youngMb = (): number => Math.round((v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 1048576)

/** Allocation with survivors, as a burst of requests makes: V8 grows the young generation to its limit. */
function busySpell (): void {
  let keep: Array<{ n: number, s: string }> = []
  for (let i = 0; i < 3_000_000; i++) {
    keep.push({ n: i, s: `x${i}` })
    if (keep.length > 200_000) keep = keep.slice(100_000)
  }
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

t.test('after a busy spell and a quiet while, the young generation is given back; not while work goes on', async (t) => {
  busySpell()
  const grown = youngMb()
  t.ok(grown >= 16, `the young generation grew to ${grown} MB`)
  // Busy: something has happened by every check (however late a loaded machine runs it), so nothing is collected.
  let busy = true
  let activity = 0
  const reclaims: Array<{ before: number, after: number }> = []
  const stop = startIdleReclaim({ activity: () => busy ? ++activity : activity, quietMs: 300, checkMs: 100, onReclaim: (young) => { reclaims.push(young) } })
  t.teardown(stop)
  await sleep(1000)
  t.equal(reclaims.length, 0, 'nothing while busy')
  busy = false

  // Quiet: given back (V8 may decline for a few seconds; the reclaim tries again).
  const until = Date.now() + 25_000
  while (reclaims.length === 0 && Date.now() < until) await sleep(100)
  t.equal(reclaims.length, 1)
  t.ok((reclaims[0]?.after ?? Infinity) < (reclaims[0]?.before ?? 0), `young generation ${Math.round((reclaims[0]?.before ?? 0) / 1048576)} → ${Math.round((reclaims[0]?.after ?? 0) / 1048576)} MB`)
  t.ok(youngMb() <= 4, `now ${youngMb()} MB`)

  // Once per quiet spell.
  await sleep(500)
  t.equal(reclaims.length, 1, 'not again while still quiet')
})
