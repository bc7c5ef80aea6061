import fc from 'fast-check'
import t from 'tap'
import { DIGEST_HOUR, duePeriod, timeZoneOf, zonedMidnight } from '../../src/alerts/digest-period.js'

// Digest periods in the tenant's time zone: whole local days, ending at the latest local midnight
// whose 08:00 has passed, through clock changes and odd offsets.

const ZONES = ['UTC', 'Europe/Moscow', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Santiago']

const local = (at: Date, zone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)

t.test('a period is whole local days, and the latest one due', async (t) => {
  fc.assert(fc.property(
    fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }),
    fc.constantFrom(...ZONES),
    fc.constantFrom('daily' as const, 'weekly' as const),
    (now, zone, kind) => {
      const p = duePeriod(kind, now, zone)
      const hours = (p.end.getTime() - p.start.getTime()) / 3600_000
      const nominal = kind === 'daily' ? 24 : 168
      if (Math.abs(hours - nominal) > 1) return false
      // Each bound is the first instant of its day: that day there, the instant before the day before.
      for (const bound of [p.start, p.end]) if (local(new Date(bound.getTime() - 1), zone).slice(0, 10) >= local(bound, zone).slice(0, 10)) return false
      if (!local(p.end, zone).startsWith(p.key)) return false
      const dueAt = p.end.getTime() + DIGEST_HOUR * 3600_000
      // Due (its 08:00 passed, within an hour of clock change) and the latest such.
      if (now.getTime() < dueAt - 3600_000) return false
      return now.getTime() < dueAt + (kind === 'daily' ? 24 : 168) * 3600_000 + 3600_000
    }
  ), { numRuns: 2000 })
})

t.test('examples a reader can check', async (t) => {
  t.same(duePeriod('daily', new Date('2026-12-07T04:59:00Z'), 'Europe/Moscow'), { key: '2026-12-06', start: new Date('2026-12-04T21:00:00Z'), end: new Date('2026-12-05T21:00:00Z') }, 'Moscow, 07:59: yesterday is not due yet; the day before is')
  t.same(duePeriod('daily', new Date('2026-12-07T05:00:00Z'), 'Europe/Moscow'), { key: '2026-12-07', start: new Date('2026-12-05T21:00:00Z'), end: new Date('2026-12-06T21:00:00Z') }, 'Moscow, 08:00: yesterday')
  t.same(duePeriod('weekly', new Date('2026-12-09T12:00:00Z'), 'UTC'), { key: '2026-12-07', start: new Date('2026-11-30T00:00:00Z'), end: new Date('2026-12-07T00:00:00Z') }, 'a Wednesday: the week that ended on Monday')
  t.same(zonedMidnight(2026, 3, 29, 'Europe/Berlin'), new Date('2026-03-28T23:00:00Z'), 'the day the clocks go forward begins at +01:00')
  t.same(zonedMidnight(2029, 9, 2, 'America/Santiago'), new Date('2029-09-02T04:00:00Z'), 'a day whose midnight the clock skips begins at 01:00 (found by the property above)')
  t.equal(timeZoneOf('europe/moscow'), 'Europe/Moscow')
  t.throws(() => timeZoneOf('Mars/Olympus'), /"Mars\/Olympus" is not a time zone/)
})
