import { createHash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { sha256Hex } from '../../src/crypto/sha256.js'

// Hashed in slices between turns of the event loop: the digest must be the one-call digest for any
// length, slice boundaries included.

t.test('the sliced digest is the one-call digest', async (t) => {
  const mib = 1024 * 1024
  for (const size of [0, 1, mib - 1, mib, mib + 1, 3 * mib + 17]) {
    const data = randomBytes(size)
    t.equal(await sha256Hex(data), createHash('sha256').update(data).digest('hex'), `${size} bytes`)
  }
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (data) => {
    return await sha256Hex(data) === createHash('sha256').update(data).digest('hex')
  }), { numRuns: 200 })
})

t.test('a large buffer lets other work run while it is hashed', async (t) => {
  let turns = 0
  const ticking = setInterval(() => { turns++ }, 0)
  await sha256Hex(randomBytes(8 * 1024 * 1024))
  clearInterval(ticking)
  t.ok(turns > 0, `timers ran ${turns} times during the hash`)
})
