import type { Locale } from '../commands/problem-text.js'
import { reasonText } from '../notify/history-text.js'

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
}

export interface AlertText { title: string, detail: string, open: string }

interface Catalogue {
  unknownSender: string
  unknownRobot: string
  open: string
  job: (jobId: number | null | undefined) => string
  'job.completed': (d: Names) => [string, string]
  'job.faulted': (d: Names) => [string, string]
  'job.stopped': (d: Names) => [string, string]
  'launch.failed': (d: Names) => [string, string]
  test: (d: Names) => [string, string]
}

interface Names { robot: string, sender: string, job: string, info: string | null, channel: string }

const en: Catalogue = {
  unknownSender: 'an unknown sender',
  unknownRobot: 'A robot',
  open: 'Open in mailrun',
  job: (id) => id === null || id === undefined ? 'The job' : `Job ${id}`,
  'job.completed': (d) => [`${d.robot}: job completed`, `${d.job} for ${d.sender} completed.`],
  'job.faulted': (d) => [`${d.robot}: job faulted`, `${d.job} for ${d.sender} faulted${d.info !== null ? `: ${d.info}` : '.'}`],
  'job.stopped': (d) => [`${d.robot}: job stopped`, `${d.job} for ${d.sender} was stopped${d.info !== null ? `: ${d.info}` : '.'}`],
  'launch.failed': (d) => [`${d.robot}: not launched`, `mailrun gave up launching ${d.robot} for ${d.sender}${d.info !== null ? `: ${d.info}` : '.'}`],
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
  test: (d) => ['mailrun: проверка канала', `Канал «${d.channel}» работает: оповещения mailrun будут приходить сюда.`]
}

const catalogues: Record<Locale, Catalogue> = { en, ru }

export type AlertType = 'job.completed' | 'job.faulted' | 'job.stopped' | 'launch.failed' | 'test'

/** The title and the sentence of an event, in the tenant's language. */
export function alertText (type: AlertType, data: AlertData, locale: Locale): AlertText {
  const c = catalogues[locale]
  const info = data.info === null || data.info === undefined || data.info === ''
    ? null
    : type === 'launch.failed' ? reasonText(data.info, locale) : data.info
  const names: Names = {
    robot: data.robot ?? c.unknownRobot,
    sender: data.sender ?? c.unknownSender,
    job: c.job(data.jobId),
    info,
    channel: data.channel ?? ''
  }
  const [title, detail] = c[type](names)
  return { title, detail, open: c.open }
}
