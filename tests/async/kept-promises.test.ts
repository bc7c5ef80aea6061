import t from 'tap'
import { keptPromises } from '../../src/async/kept-promises.js'

// The keeping under the DNS cache and the kept DKIM keys: one producer call per key and period,
// shared while in flight, bounded in entries, failures dropped unless they are answers.

function counted (): { produce: (value: string) => () => Promise<string>, calls: () => number } {
  let calls = 0
  return { produce: (value) => async () => { calls++; return value }, calls: () => calls }
}

t.test('a value is kept until ttlMs has passed, then produced anew', async (t) => {
  const clock = { now: 0 }
  const kept = keptPromises<string>({ ttlMs: 1_000, maxEntries: 10, now: () => clock.now })
  const { produce, calls } = counted()
  t.equal(await kept('a', produce('first')), 'first')
  clock.now = 999
  t.equal(await kept('a', produce('second')), 'first')
  clock.now = 1_000
  t.equal(await kept('a', produce('third')), 'third')
  t.equal(calls(), 2)
})

t.test('callers asking while the first is in flight share its promise', async (t) => {
  const kept = keptPromises<string>({ ttlMs: 1_000, maxEntries: 10 })
  let release: (value: string) => void = () => {}
  let calls = 0
  const slow = async (): Promise<string> => { calls++; return await new Promise<string>((resolve) => { release = resolve }) }
  const answers = Promise.all([kept('k', slow), kept('k', slow), kept('k', slow)])
  release('one')
  t.same(await answers, ['one', 'one', 'one'])
  t.equal(calls, 1)
})

t.test('past maxEntries the oldest key is dropped first', async (t) => {
  const kept = keptPromises<string>({ ttlMs: 60_000, maxEntries: 2 })
  const { produce, calls } = counted()
  await kept('a', produce('a'))
  await kept('b', produce('b'))
  await kept('c', produce('c'))
  t.equal(calls(), 3)
  await kept('c', produce('c'))
  await kept('b', produce('b'))
  t.equal(calls(), 3, 'b and c still kept')
  await kept('a', produce('a'))
  t.equal(calls(), 4, 'a was dropped')
})

t.test('a failure is dropped at once, unless keepFailure calls it an answer', async (t) => {
  const kept = keptPromises<string>({ ttlMs: 60_000, maxEntries: 10, keepFailure: (error) => (error as Error).message === 'no such record' })
  let calls = 0
  const failing = (message: string) => async (): Promise<string> => { calls++; throw new Error(message) }
  await t.rejects(kept('timeout', failing('timed out')), /timed out/)
  await t.rejects(kept('timeout', failing('timed out')), /timed out/)
  t.equal(calls, 2, 'asked again after a failure')
  await t.rejects(kept('absent', failing('no such record')), /no such record/)
  await t.rejects(kept('absent', failing('no such record')), /no such record/)
  t.equal(calls, 3, 'the negative answer was kept')
})
