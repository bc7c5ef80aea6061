import type { Locale } from '../commands/problem-text.js'

// A launch's history lines are written once, in English, where they happen (the launch service,
// the job tracker, a cancel). A STATUS reply in Russian says each known line in Russian; what
// Orchestrator itself said (a job's Info, an error's text) is its own words and is quoted as such.

type Rule = [RegExp, (m: RegExpExecArray) => string]

const jobStates: Record<string, string> = { successful: 'успешно', faulted: 'с ошибкой', stopped: 'остановлено', running: 'выполняется', pending: 'ожидает', stopping: 'останавливается', terminating: 'завершается', suspended: 'приостановлено', resumed: 'продолжено' }

const items = (n: number): string => {
  const tens = n % 100
  const units = n % 10
  return tens >= 11 && tens <= 14 ? 'элементов' : units === 1 ? 'элемент' : units >= 2 && units <= 4 ? 'элемента' : 'элементов'
}

const ru: Rule[] = [
  [/^command accepted$/, () => 'команда принята'],
  [/^job (\d+) started$/, (m) => `задание ${m[1] ?? ''} запущено`],
  [/^job (\d+) found by .+ after an unclear attempt$/, (m) => `задание ${m[1] ?? ''} найдено после попытки запуска без ясного ответа`],
  [/^(\d+) queue items? added to (.+?)(?:; (\d+) refused)?$/, (m) => `в очередь «${m[2] ?? ''}» добавлено: ${m[1] ?? ''} ${items(Number(m[1]))}${m[3] !== undefined ? `; отклонено: ${m[3]}` : ''}`],
  [/^queue item added to (.*)$/, (m) => `элемент добавлен в очередь «${m[1] ?? ''}»`],
  [/^queue item found by reference after an unclear attempt in (.*)$/, (m) => `элемент найден в очереди «${m[1] ?? ''}» после попытки без ясного ответа`],
  [/^queue item was already in (.*)$/, (m) => `элемент уже был в очереди «${m[1] ?? ''}»`],
  [/^cancelled by (.+) before it started$/, (m) => `отменён до запуска (${m[1] ?? ''})`],
  [/^(stop|kill) requested by (.+)$/, (m) => `${m[1] === 'kill' ? 'принудительное завершение' : 'остановку'} запросил(а) ${m[2] ?? ''}`],
  [/^(\d+) queue items? deleted by (.+?)(?:; (\d+) already taken by a robot)?$/, (m) => `из очереди удалено: ${m[1] ?? ''} ${items(Number(m[1]))} (${m[2] ?? ''})${m[3] !== undefined ? `; ${m[3]} уже взяты роботом` : ''}`],
  [/^job (\w+)(?:: ([\s\S]*))?$/, (m) => `задание: ${jobStates[(m[1] ?? '').toLowerCase()] ?? m[1] ?? ''}${m[2] !== undefined ? ` — сообщение Orchestrator: «${m[2]}»` : ''}`]
]

/** A history line in the reply's language. */
export function historyDetail (detail: string, locale: Locale): string {
  if (locale === 'en') return detail
  for (const [pattern, say] of ru) {
    const match = pattern.exec(detail)
    if (match !== null) return say(match)
  }
  // Not a line mailrun writes in a known form: Orchestrator's or the network's own words.
  return `подробности: «${detail}»`
}
