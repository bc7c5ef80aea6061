import type { Locale } from '../commands/problem-text.js'
import { reasonText } from '../notify/history-text.js'
import type { DigestSummary } from './digest-summary.js'
import { digestText } from './digest-text.js'
import type { TeamEvent } from './team-events.js'

// What a team reads in Slack, Teams, Google Chat, Chatwork or an alert email: one catalogue per
// language, in the tenant's language. Orchestrator's own words (a job's Info) are quoted as they are.

export interface AlertData {
  launchId?: string
  robot?: string | null
  sender?: string | null
  jobId?: number | null
  state?: string
  info?: string | null
  channel?: string
  mailbox?: string
  error?: string | null
  waiting?: number
  count?: number
  oldest?: string
}

export interface AlertText { title: string, detail: string, open: string, /** A digest's lines, for an email to list. */ lines?: string[] }

interface Catalogue {
  unknownSender: string
  unknownRobot: string
  open: string
  job: (jobId: number | null | undefined) => string
  'job.completed': (d: Names) => [string, string]
  'job.faulted': (d: Names) => [string, string]
  'job.stopped': (d: Names) => [string, string]
  'launch.failed': (d: Names) => [string, string]
  'mailbox.failing': (d: Names) => [string, string]
  'mailbox.recovered': (d: Names) => [string, string]
  'orchestrator.failing': (d: Names) => [string, string]
  'replies.failing': (d: Names) => [string, string]
  'messages.stuck': (d: Names) => [string, string]
  'canary.missed': (d: Names) => [string, string]
  'canary.recovered': (d: Names) => [string, string]
  test: (d: Names) => [string, string]
}

interface Names { robot: string, sender: string, job: string, info: string | null, channel: string, mailbox: string, error: string, waiting: number, count: number, oldest: string }

const en: Catalogue = {
  unknownSender: 'an unknown sender',
  unknownRobot: 'A robot',
  open: 'Open in mailrun',
  job: (id) => id === null || id === undefined ? 'The job' : `Job ${id}`,
  'job.completed': (d) => [`${d.robot}: job completed`, `${d.job} for ${d.sender} completed.`],
  'job.faulted': (d) => [`${d.robot}: job faulted`, `${d.job} for ${d.sender} faulted${d.info !== null ? `: ${d.info}` : '.'}`],
  'job.stopped': (d) => [`${d.robot}: job stopped`, `${d.job} for ${d.sender} was stopped${d.info !== null ? `: ${d.info}` : '.'}`],
  'launch.failed': (d) => [`${d.robot}: not launched`, `mailrun gave up launching ${d.robot} for ${d.sender}${d.info !== null ? `: ${d.info}` : '.'}`],
  'mailbox.failing': (d) => [`Mailbox ${d.mailbox} cannot be read`, `mailrun cannot read ${d.mailbox}: ${d.error}. Mail there waits until this is fixed.`],
  'mailbox.recovered': (d) => [`Mailbox ${d.mailbox} is read again`, `mailrun reads ${d.mailbox} again; mail that waited is being handled.`],
  'orchestrator.failing': (d) => ['Orchestrator refuses mailrun', `Launches fail: ${d.error}. Check the Orchestrator connection.`],
  'replies.failing': (d) => [`Replies from ${d.mailbox} are not sent`, `The SMTP server refuses mailrun's replies from ${d.mailbox} (${d.waiting} waiting): ${d.error}`],
  'messages.stuck': (d) => [`${d.count} messages are stuck`, `${d.count} messages have waited more than 5 minutes to be decided (the oldest since ${d.oldest}). Check the database and mailrun's log.`],
  'canary.missed': (d) => [`Mail to ${d.mailbox} did not come back`, `mailrun's test email to ${d.mailbox} was not found in time${d.error !== '' ? ` (sending it: ${d.error})` : ''}. Mail sent there may not reach mailrun: check the route (forwarding, MX, the IMAP sign-in).`],
  'canary.recovered': (d) => [`Mail to ${d.mailbox} comes back again`, `mailrun's test email to ${d.mailbox} was found again: mail reaches mailrun.`],
  test: (d) => ['mailrun: test message', `The channel "${d.channel}" works: mailrun's alerts will arrive here.`]
}

const ru: Catalogue = {
  unknownSender: 'неизвестного отправителя',
  unknownRobot: 'Робот',
  open: 'Открыть в mailrun',
  job: (id) => id === null || id === undefined ? 'Задание' : `Задание ${id}`,
  'job.completed': (d) => [`${d.robot}: задание выполнено`, `${d.job} для ${d.sender} выполнено.`],
  'job.faulted': (d) => [`${d.robot}: задание завершилось с ошибкой`, `${d.job} для ${d.sender} завершилось с ошибкой${d.info !== null ? `: ${d.info}` : '.'}`],
  'job.stopped': (d) => [`${d.robot}: задание остановлено`, `${d.job} для ${d.sender} остановлено${d.info !== null ? `: ${d.info}` : '.'}`],
  'launch.failed': (d) => [`${d.robot}: робот не запущен`, `mailrun не смог запустить робота ${d.robot} для ${d.sender}${d.info !== null ? `: ${d.info}` : '.'}`],
  'mailbox.failing': (d) => [`Ящик ${d.mailbox} не читается`, `mailrun не может прочитать ящик ${d.mailbox}: ${d.error}. Письма в нём ждут, пока это не исправлено.`],
  'mailbox.recovered': (d) => [`Ящик ${d.mailbox} снова читается`, `mailrun снова читает ящик ${d.mailbox}; ожидавшие письма обрабатываются.`],
  'orchestrator.failing': (d) => ['Orchestrator отказывает mailrun', `Запуски не удаются: ${d.error}. Проверьте подключение к Orchestrator.`],
  'replies.failing': (d) => [`Ответы из ящика ${d.mailbox} не отправляются`, `SMTP-сервер отклоняет ответы mailrun из ящика ${d.mailbox} (ожидают отправки: ${d.waiting}): ${d.error}`],
  'messages.stuck': (d) => [`Зависших писем: ${d.count}`, `Писем, ждущих решения дольше 5 минут: ${d.count} (самое старое — с ${d.oldest}). Проверьте базу данных и журнал mailrun.`],
  'canary.missed': (d) => [`Письмо в ${d.mailbox} не вернулось`, `Проверочное письмо mailrun в ${d.mailbox} не найдено вовремя${d.error !== '' ? ` (при отправке: ${d.error})` : ''}. Письма туда могут не доходить до mailrun: проверьте маршрут (пересылку, MX, вход в IMAP).`],
  'canary.recovered': (d) => [`Письма в ${d.mailbox} снова доходят`, `Проверочное письмо mailrun в ${d.mailbox} снова найдено: письма доходят до mailrun.`],
  test: (d) => ['mailrun: проверка канала', `Канал «${d.channel}» работает: оповещения mailrun будут приходить сюда.`]
}

const catalogues: Record<Locale, Catalogue> = { en, ru }

export type AlertType = TeamEvent | 'test' | 'digest'

/** The title and the sentence of an event, in the tenant's language. */
export function alertText (type: AlertType, data: AlertData, locale: Locale): AlertText {
  const c = catalogues[locale]
  if (type === 'digest') {
    const digest = digestText(data as unknown as DigestSummary & { timeZone: string }, locale)
    return { title: digest.title, detail: digest.lines.join('\n'), open: c.open, lines: digest.lines }
  }
  const info = data.info === null || data.info === undefined || data.info === ''
    ? null
    : type === 'launch.failed' ? reasonText(data.info, locale) : data.info
  const names: Names = {
    robot: data.robot ?? c.unknownRobot,
    sender: data.sender ?? c.unknownSender,
    job: c.job(data.jobId),
    info,
    channel: data.channel ?? '',
    mailbox: data.mailbox ?? '',
    // What a server or mailrun said, quoted as it is (in Russian when mailrun's words are known).
    error: data.error === null || data.error === undefined ? '' : reasonText(data.error, locale),
    waiting: data.waiting ?? 0,
    count: data.count ?? 0,
    oldest: data.oldest !== undefined ? `${data.oldest.slice(0, 16).replace('T', ' ')} UTC` : ''
  }
  const [title, detail] = c[type](names)
  return { title, detail, open: c.open }
}

const channelFailing: Record<Locale, (d: { channel: string, kind: string, since: string, error: string }) => [string, string]> = {
  en: (d) => [`Alert channel "${d.channel}" has failed for a day`, `mailrun has not been able to deliver to "${d.channel}" (${d.kind}) since ${d.since.slice(0, 16).replace('T', ' ')} UTC; its last answer: ${d.error}. Alerts meant for it do not reach your team: fix or replace it on the Alerts page.`],
  ru: (d) => [`Канал оповещений «${d.channel}» не работает сутки`, `mailrun не может доставить оповещения в «${d.channel}» (${d.kind}) с ${d.since.slice(0, 16).replace('T', ' ')} UTC; последний ответ: ${d.error}. Оповещения для него не доходят до команды: исправьте или замените его на странице «Оповещения».`]
}

/** The email to a tenant's admins about a channel that has failed for a day. */
export function channelFailingText (d: { channel: string, kind: string, since: string, error: string }, locale: Locale): AlertText {
  const [title, detail] = channelFailing[locale](d)
  return { title, detail, open: catalogues[locale].open }
}
