/**
 * How often the quarter-second polling loops (young jobs, platform runs) really run. A launch is
 * looked at 1, 2, 4, 8 … s after it starts, so while one made here is young the loops run every
 * tick; with none they run every `quietEveryMs` — each pass is a statement, and four a second with
 * nothing due kept an idle process busy. Launches made by another replica are that replica's
 * young ones (it runs its loops at full pace); here they are seen within `quietEveryMs`, as are
 * launches left young by a process that stopped.
 */
/** With no launch young here, the polling loops run this often (older jobs were read every 2 s already). */
export const POLL_QUIET_EVERY_MS = 2_000

export interface PollPace {
  /** A launch started here: the loops run at full pace while it is young. */
  launched: () => void
  /** Whether a loop last run at `lastRunAt` runs now. */
  due: (lastRunAt: number) => boolean
}

export function createPollPace (options: { youngForMs: number, quietEveryMs: number, now?: () => number }): PollPace {
  const now = options.now ?? Date.now
  let youngUntil = 0
  return {
    launched () { youngUntil = now() + options.youngForMs },
    due (lastRunAt) {
      const at = now()
      return at < youngUntil || at - lastRunAt >= options.quietEveryMs
    }
  }
}
