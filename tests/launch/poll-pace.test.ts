import t from 'tap'
import { createPollPace } from '../../src/launch/poll-pace.js'

t.test('with no launch young here the polling loops run every quietEveryMs, not every tick', async (t) => {
  let clock = 10_000
  const pace = createPollPace({ youngForMs: 15_000, quietEveryMs: 2_000, now: () => clock })
  t.equal(pace.due(0), true, 'a loop that never ran runs')
  const ranAt = clock
  clock += 250
  t.equal(pace.due(ranAt), false, 'a quarter-second later: skipped')
  clock = ranAt + 1_999
  t.equal(pace.due(ranAt), false, 'just before the quiet pace: skipped')
  clock = ranAt + 2_000
  t.equal(pace.due(ranAt), true, 'at the quiet pace: runs (other replicas\' launches, older jobs)')
})

t.test('a launch made here puts the loops at full pace for as long as it is young', async (t) => {
  let clock = 50_000
  const pace = createPollPace({ youngForMs: 15_000, quietEveryMs: 2_000, now: () => clock })
  pace.launched()
  const launchedAt = clock
  for (const after of [250, 1_000, 7_250, 14_750]) {
    clock = launchedAt + after
    t.equal(pace.due(clock - 250), true, `${after} ms after the launch: every tick`)
  }
  clock = launchedAt + 15_000
  t.equal(pace.due(clock - 250), false, 'once it is no longer young: back to the quiet pace')
  clock += 1_750
  t.equal(pace.due(clock - 2_000), true)
})
