import { fieldError } from '../errors.js'

// When a digest goes out and what it covers, in the tenant's time zone: a daily digest at 08:00
// covers the day before; a weekly one, on Monday at 08:00, the seven days before. A period is
// named by its end day (daily) or its Monday (weekly), so each is sent once whatever the replicas.

export const DIGEST_HOUR = 8

export interface DigestPeriod { key: string, start: Date, end: Date }

/** The time zone as stored, or a 400 naming it when no such zone exists. */
export function timeZoneOf (zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone
  } catch {
    throw fieldError('timeZone', `"${zone}" is not a time zone: use an IANA name such as Europe/Moscow or UTC`)
  }
}

interface Local { year: number, month: number, day: number, hour: number }

function localParts (at: Date, zone: string): Local {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', hourCycle: 'h23' }).formatToParts(at)
  const value = (type: string): number => Number(parts.find((p) => p.type === type)?.value)
  return { year: value('year'), month: value('month'), day: value('day'), hour: value('hour') }
}

/**
 * The first instant of a calendar day in `zone`: its local midnight (offsets read twice, for days a
 * clock changes), or where a clock jumps over midnight (America/Santiago in September), the
 * moment the day begins after the jump.
 */
export function zonedMidnight (year: number, month: number, day: number, zone: string): Date {
  const wall = Date.UTC(year, month - 1, day)
  let guess = wall
  for (let i = 0; i < 2; i++) {
    const p = localParts(new Date(guess), zone)
    const minutes = new Intl.DateTimeFormat('en-US', { timeZone: zone, minute: 'numeric' }).formatToParts(new Date(guess)).find((x) => x.type === 'minute')?.value
    const seen = Date.UTC(p.year, p.month - 1, p.day, p.hour, Number(minutes))
    guess += wall - seen
  }
  // Still on the day before: midnight does not exist that day; the day begins at the next whole
  // quarter of an hour that reads as the day itself (clocks change on quarter hours).
  for (let i = 0; i < 12 && dayNumber(localParts(new Date(guess), zone)) < Date.UTC(year, month - 1, day); i++) guess = (Math.floor(guess / 900_000) + 1) * 900_000
  return new Date(guess)
}

const dayNumber = (p: Local): number => Date.UTC(p.year, p.month - 1, p.day)

const dayKey = (y: number, m: number, d: number): string => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`

/** A calendar day `delta` days from the given one. */
function shift (y: number, m: number, d: number, delta: number): [number, number, number] {
  const t = new Date(Date.UTC(y, m - 1, d + delta))
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()]
}

/** The latest period whose digest is due at `now` (its 08:00 has passed). */
export function duePeriod (kind: 'daily' | 'weekly', now: Date, zone: string): DigestPeriod {
  const local = localParts(now, zone)
  // Before 08:00 the day's digest is not due yet: the latest due one is yesterday's.
  let [y, m, d] = local.hour >= DIGEST_HOUR ? [local.year, local.month, local.day] : shift(local.year, local.month, local.day, -1)
  if (kind === 'weekly') {
    const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay() // 0 Sunday … 6 Saturday
    ;[y, m, d] = shift(y, m, d, -((weekday + 6) % 7))
  }
  const [sy, sm, sd] = shift(y, m, d, kind === 'daily' ? -1 : -7)
  return { key: dayKey(y, m, d), start: zonedMidnight(sy, sm, sd, zone), end: zonedMidnight(y, m, d, zone) }
}
