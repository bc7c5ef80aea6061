import type { Locale } from '../commands/problem-text.js'
import type { LaunchState, MessageStatus } from '../db/schema.js'
import { reasonText } from '../notify/history-text.js'
import type { DigestSummary } from './digest-summary.js'

// A digest as a team reads it, in the tenant's language: a title naming the period, then one line
// per part. Chat channels get the lines as text; the email renders them as a small HTML page.

interface Catalogue {
  title: (kind: 'daily' | 'weekly', period: string) => string
  dateLocale: string
  messages: (total: number, parts: string) => string
  noMessages: string
  status: Record<MessageStatus, string>
  launches: (total: number) => string
  state: Record<LaunchState, string>
  slowest: (robot: string, average: number, longest: number) => string
  failing: (robot: string, n: number) => string
  refused: (list: string) => string
  mailboxesOk: (n: number) => string
  mailboxFailing: (mailbox: string, error: string) => string
}

const en: Catalogue = {
  title: (kind, period) => `mailrun ${kind} digest: ${period}`,
  dateLocale: 'en-GB',
  messages: (total, parts) => `Messages: ${total} (${parts})`,
  noMessages: 'No messages in this period.',
  status: { accepted: 'accepted', rejected: 'refused', ignored: 'ignored', failed: 'failed', received: 'undecided' },
  launches: (total) => `Launches: ${total}`,
  state: { pending: 'waiting', launching: 'starting', launched: 'running', completed: 'completed', faulted: 'faulted', stopped: 'stopped', failed: 'not launched' },
  slowest: (robot, average, longest) => `Slowest: ${robot}, ${average} s on average (longest ${longest} s)`,
  failing: (robot, n) => `Failing most: ${robot}, ${n} faulted or not launched`,
  refused: (list) => `Refused messages by sender: ${list}`,
  mailboxesOk: (n) => `Mailboxes: ${n}, no errors`,
  mailboxFailing: (mailbox, error) => `Mailbox ${mailbox} is not read: ${error}`
}

const ru: Catalogue = {
  title: (kind, period) => `Сводка mailrun за ${kind === 'daily' ? 'день' : 'неделю'}: ${period}`,
  dateLocale: 'ru-RU',
  messages: (total, parts) => `Писем: ${total} (${parts})`,
  noMessages: 'За этот период писем не было.',
  status: { accepted: 'принято', rejected: 'отклонено', ignored: 'пропущено', failed: 'с ошибкой', received: 'не решено' },
  launches: (total) => `Запусков: ${total}`,
  state: { pending: 'ожидает', launching: 'запускается', launched: 'выполняется', completed: 'выполнено', faulted: 'с ошибкой', stopped: 'остановлено', failed: 'не запущено' },
  slowest: (robot, average, longest) => `Самый медленный: ${robot}, в среднем ${average} с (дольше всего ${longest} с)`,
  failing: (robot, n) => `Чаще всего с ошибкой: ${robot}, ${n} раз(а) с ошибкой или без запуска`,
  refused: (list) => `Отклонённые письма по отправителям: ${list}`,
  mailboxesOk: (n) => `Ящики: ${n}, без ошибок`,
  mailboxFailing: (mailbox, error) => `Ящик ${mailbox} не читается: ${error}`
}

const catalogues: Record<Locale, Catalogue> = { en, ru }

/** The period as a reader names it: one day, or the first and last day of the week. */
function periodLabel (c: Catalogue, s: DigestSummary, zone: string): string {
  const day = (at: Date): string => at.toLocaleDateString(c.dateLocale, { timeZone: zone, day: 'numeric', month: 'long', year: 'numeric' })
  const lastDay = new Date(new Date(s.end).getTime() - 3600_000)
  return s.kind === 'daily' ? day(new Date(s.start)) : `${day(new Date(s.start))} – ${day(lastDay)}`
}

export function digestText (s: DigestSummary & { timeZone: string }, locale: Locale): { title: string, lines: string[] } {
  const c = catalogues[locale]
  const lines: string[] = []
  const total = Object.values(s.messages).reduce((a, b) => a + (b ?? 0), 0)
  if (total === 0) lines.push(c.noMessages)
  else lines.push(c.messages(total, (Object.entries(s.messages) as Array<[MessageStatus, number]>).map(([status, n]) => `${c.status[status] ?? status}: ${n}`).join(', ')))
  const launches = s.robots.reduce((a, r) => a + Object.values(r.launches).reduce((x, y) => x + (y ?? 0), 0), 0)
  if (launches > 0) {
    lines.push(c.launches(launches))
    for (const r of s.robots) lines.push(`• ${r.robot}: ${(Object.entries(r.launches) as Array<[LaunchState, number]>).map(([state, n]) => `${c.state[state] ?? state} ${n}`).join(', ')}`)
  }
  for (const slow of s.slowest.slice(0, 1)) lines.push(c.slowest(slow.robot, slow.averageSeconds, slow.longestSeconds))
  for (const f of s.failing) lines.push(c.failing(f.robot, f.failures))
  if (s.refusedSenders.length > 0) lines.push(c.refused(s.refusedSenders.map((r) => `${r.sender} (${r.messages})`).join(', ')))
  const failing = s.mailboxes.filter((m) => m.error !== null)
  if (s.mailboxes.length > 0 && failing.length === 0) lines.push(c.mailboxesOk(s.mailboxes.length))
  for (const m of failing) lines.push(c.mailboxFailing(m.mailbox, reasonText(m.error ?? '', locale)))
  return { title: c.title(s.kind, periodLabel(c, s, s.timeZone)), lines }
}
