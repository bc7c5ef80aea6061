import fc from 'fast-check'
import t from 'tap'
import { createBatcher } from '../../src/async/batcher.js'

// The group-commit batcher: calls made while a batch runs go together in the next one, each call
// gets its own result, and a failing batch fails only the calls whose item fails alone.

const tick = async (ms = 0): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

t.test('a call alone goes at once, by itself', async (t) => {
  const batches: number[][] = []
  const ones: number[] = []
  const double = createBatcher<number, number>({ maxItems: 10, run: async (items) => { batches.push(items); return items.map((i) => i * 2) }, runOne: async (i) => { ones.push(i); return i * 2 } })
  t.equal(await double(4), 8)
  t.same(batches, [])
  t.same(ones, [4])
})

t.test('calls made while a batch runs go together in the next one, at most maxItems at a time', async (t) => {
  const batches: number[][] = []
  // Each batch waits until the test lets it end, so what arrives meanwhile is known exactly.
  const gates: Array<() => void> = []
  const double = createBatcher<number, number>({
    maxItems: 3,
    run: async (items) => { batches.push(items); await new Promise<void>((resolve) => { gates.push(resolve) }); return items.map((i) => i * 2) },
    runOne: async (i) => i * 2
  })
  const batchesReach = async (n: number): Promise<void> => { while (batches.length < n) await new Promise((resolve) => setImmediate(resolve)) }
  const first = double(1)
  const second = double(2)
  await batchesReach(1)
  const rest = [3, 4, 5, 6, 7].map(async (i) => await double(i))
  gates.shift()?.()
  await batchesReach(2)
  gates.shift()?.()
  await batchesReach(3)
  gates.shift()?.()
  t.same(await Promise.all([first, second, ...rest]), [2, 4, 6, 8, 10, 12, 14])
  t.same(batches, [[1, 2], [3, 4, 5], [6, 7]], 'the first two together, then the others as the batches end')
})

t.test('a batch that fails: each item alone, and only the bad one fails', async (t) => {
  const double = createBatcher<number, number>({
    maxItems: 10,
    run: async (items) => { if (items.includes(13)) throw new Error('one bad row fails the statement'); return items.map((i) => i * 2) },
    runOne: async (i) => { if (i === 13) throw new Error('13 is refused'); return i * 2 }
  })
  const results = await Promise.allSettled([12, 13, 14].map(async (i) => await double(i)))
  t.match(results, [{ status: 'fulfilled', value: 24 }, { status: 'rejected', reason: { message: '13 is refused' } }, { status: 'fulfilled', value: 28 }])
})

t.test('a batch that answers the wrong number of results is not trusted', async (t) => {
  const double = createBatcher<number, number>({ maxItems: 10, run: async (items) => items.slice(1).map((i) => i * 2), runOne: async (i) => i * 2 })
  t.same(await Promise.all([1, 2, 3].map(async (i) => await double(i))), [2, 4, 6])
})

t.test('whatever the arrivals, every call gets its own result, once', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ value: fc.integer(), waitMs: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 60 }),
    fc.integer({ min: 1, max: 8 }),
    async (calls, maxItems) => {
      let seen = 0
      const negate = createBatcher<number, number>({
        maxItems,
        run: async (items) => { if (items.length > maxItems) throw new Error('too many'); seen += items.length; await tick(1); return items.map((i) => -i) },
        runOne: async (i) => { seen++; return -i }
      })
      const pending: Array<Promise<number>> = []
      for (const call of calls) {
        pending.push(negate(call.value))
        if (call.waitMs > 0) await tick(call.waitMs)
      }
      const results = await Promise.all(pending)
      return results.every((r, i) => r === -(calls[i]?.value ?? 0)) && seen === calls.length
    }
  ), { numRuns: 60 })
})
