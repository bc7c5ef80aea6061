import type { FunctionDeclaration, ParameterDeclaration, Problem } from '../db/schema.js'
import { renderCommand, SUBJECT_PREFIX } from '../commands/command-grammar.js'
import type { CancelOutcome } from '../launch/cancel-launch.js'
import type { StatusReport } from '../commands/status-report.js'
import type { LaunchPlan } from '../commands/validate-plan.js'
import { describeParameters, problem, problemText, type Locale } from '../commands/problem-text.js'
import { historyDetail, reasonText } from './history-text.js'

// What a sender reads. The sender has no Orchestrator access: each reply says what happened, and
// when something is wrong, exactly what to write instead.

export type { Locale }

export interface CatalogueEntry {
  name: string
  description: string
  parameters: ParameterDeclaration[]
  functions: FunctionDeclaration[]
}

/** A spreadsheet's rows added as queue items: how many, and the rows left out and why. */
export interface RowsOutcome {
  added: number
  /** Rows left out by the robot's "skip" policy, and their problems (bounded); columns the robot does not take, left out. */
  skipped: { rows: number, problems: Problem[], ignoredColumns?: string[] }
  /** Rows Orchestrator would not add. */
  refused: { rows: number, problems: Problem[] }
}

export type ReplyContent =
  | { kind: 'launched', robot: string, jobId: number | null, queue: string | null, plan: LaunchPlan, rows?: RowsOutcome }
  | { kind: 'rejected', robot: string | null, problems: Problem[], catalogue: CatalogueEntry[], ignored?: string[] }
  | { kind: 'not_allowed', robot: string, contact: string | null }
  | { kind: 'failed', robot: string, reason: string, retrying: boolean }
  | { kind: 'finished', robot: string, state: 'completed' | 'faulted' | 'stopped', jobId: number | null, runSeconds: number | null, info: string | null, outputs: Record<string, unknown> | null }
  | { kind: 'help', catalogue: CatalogueEntry[] }
  | { kind: 'status', report: StatusReport }
  | { kind: 'cancel', result: CancelOutcome }

export interface ComposedReply { subject: string, text: string, html: string }

const words = {
  en: {
    launched: (robot: string) => `Robot "${robot}" has been started.`,
    job: (id: number) => `Orchestrator job: ${id}`,
    queued: (queue: string) => `The request was added to queue "${queue}".`,
    rowsAdded: (n: number, queue: string) => `${n} row${n === 1 ? ' was' : 's were'} added to queue "${queue}", one queue item each.`,
    rowsSkipped: (n: number) => `${n} row${n === 1 ? ' was' : 's were'} left out because of these problems; fix them and send those rows again:`,
    rowsRefused: (n: number) => `Orchestrator refused ${n} row${n === 1 ? '' : 's'}:`,
    understood: 'This is what was understood (check for typos):',
    ignored: 'Not read as part of the command (taken for a greeting or a signature):',
    inputs: 'Inputs:',
    functions: 'Functions, in this order:',
    none: '(none)',
    willReport: 'You will get another email when it finishes.',
    rejected: 'Your email could not be run. What to fix:',
    line: (n: number) => `Line ${n}`,
    unknownRobotList: 'Robots you may run:',
    example: 'For example:',
    exampleFor: (robot: string) => `Example email for "${robot}":`,
    subjectIs: (s: string) => `Subject: ${s}`,
    notAllowed: (robot: string) => `You are not allowed to run robot "${robot}".`,
    askContact: (contact: string) => `To get access, ask ${contact}.`,
    askAdmin: 'To get access, ask your RPA team.',
    failed: (robot: string) => `Robot "${robot}" could not be started.`,
    reason: (r: string) => `Reason: ${r}.`,
    retrying: 'mailrun will keep trying on its own: you do not need to send the email again. You will get an email when it starts.',
    notRetrying: 'mailrun will not retry this one. Fix the cause (or ask your RPA team), then send the email again.',
    finished: { completed: (r: string) => `Robot "${r}" finished successfully.`, faulted: (r: string) => `Robot "${r}" failed.`, stopped: (r: string) => `Robot "${r}" was stopped.` },
    runTime: (s: string) => `Run time: ${s}`,
    failure: (info: string) => `What went wrong: ${info}`,
    outputs: 'Results:',
    help: 'Robots you may run by email. Write the robot name as the subject and its inputs and functions in the body, one per line.',
    noRobots: 'There are no robots you may run yet. Ask your RPA team.',
    takes: 'inputs',
    fns: 'functions',
    units: { h: 'h', min: 'min', s: 's' },
    statusRecent: 'Your last launches, newest first:',
    statusNone: 'You have not started any robot by email yet.',
    statusOne: 'Your launch:',
    statusNotFound: (ref: string) => `None of your launches matches "${ref}". Write the subject "status" alone for your last launches, or "status" and a job number from one of the replies.`,
    statusHint: 'For one of them in detail, write the subject "status" and its job number.',
    history: 'History:',
    states: { pending: 'waiting to start', launching: 'starting', launched: 'running', completed: 'finished successfully', faulted: 'failed while running', stopped: 'stopped', failed: 'could not be started', retrying: 'waiting to start (retrying)' } as Record<string, string>,
    jobNo: (id: number) => `job ${id}`,
    sentBy: (who: string) => `sent by ${who}`,
    cancel: {
      cancelled: (r: string) => `Robot "${r}" will not run: it was cancelled before it started.`,
      stopRequested: (r: string, job: number, kill: boolean) => `Robot "${r}" (job ${job}) is being ${kill ? 'killed' : 'stopped'}. You will get an email when it has stopped.`,
      starting: (r: string) => `Robot "${r}" is being started right now, so it cannot be cancelled this moment. Send "cancel" again in a minute: it will be stopped then.`,
      ended: (r: string, state: string) => `Robot "${r}" has already ended (${state}): there is nothing to cancel.`,
      queueItem: (r: string) => `Robot "${r}" works from a queue: its items could not be looked up in Orchestrator just now. Try again later, or ask your RPA team.`,
      queueDeleted: (r: string, deleted: number, kept: number) => `${deleted} queue item${deleted === 1 ? ' was' : 's were'} deleted from robot "${r}"'s queue${kept > 0 ? `; ${kept} had already been taken up by a robot and stay${kept === 1 ? 's' : ''}` : ''}.`,
      stopFailed: (r: string, job: number, reason: string) => `Robot "${r}" (job ${job}) could not be stopped: ${reason}. Try again, or ask your RPA team.`,
      notStoppable: (r: string) => `Robot "${r}" runs on a system mailrun cannot stop: it has started and goes on. Ask your RPA team to stop it there.`,
      runStopRequested: (r: string) => `Robot "${r}" is being stopped. You will get an email when it has stopped.`,
      runStopFailed: (r: string, reason: string) => `Robot "${r}" could not be stopped: ${reason}. Try again, or ask your RPA team.`,
      notFound: (ref: string) => ref === '' ? 'Which launch? Reply "cancel" to one of mailrun\'s emails about it, or write the subject "cancel" and its job number.' : `None of your launches matches "${ref}": nothing was cancelled. Write the subject "cancel" and a job number from one of the replies.`
    },
    sent: (at: string) => `sent ${at}`,
    startedAt: (at: string) => `started ${at}`,
    finishedAt: (at: string) => `ended ${at}`,
    signature: 'mailrun (automatic answer)'
  },
  ru: {
    launched: (robot: string) => `Робот «${robot}» запущен.`,
    job: (id: number) => `Задание в Orchestrator: ${id}`,
    queued: (queue: string) => `Запрос добавлен в очередь «${queue}».`,
    rowsAdded: (n: number, queue: string) => `В очередь «${queue}» добавлено строк: ${n} (по элементу очереди на строку).`,
    rowsSkipped: (n: number) => `Пропущено строк с ошибками: ${n}. Исправьте их и пришлите эти строки ещё раз:`,
    rowsRefused: (n: number) => `Orchestrator отклонил строк: ${n}:`,
    understood: 'Вот как письмо было понято (проверьте, нет ли опечаток):',
    ignored: 'Не прочитано как часть команды (похоже на приветствие или подпись):',
    inputs: 'Параметры:',
    functions: 'Функции, в этом порядке:',
    none: '(нет)',
    willReport: 'Когда робот закончит, придёт ещё одно письмо.',
    rejected: 'Письмо не удалось выполнить. Что исправить:',
    line: (n: number) => `Строка ${n}`,
    unknownRobotList: 'Роботы, которых вы можете запускать:',
    example: 'Например:',
    exampleFor: (robot: string) => `Пример письма для «${robot}»:`,
    subjectIs: (s: string) => `Тема: ${s}`,
    notAllowed: (robot: string) => `У вас нет права запускать робота «${robot}».`,
    askContact: (contact: string) => `Чтобы получить доступ, напишите ${contact}.`,
    askAdmin: 'Чтобы получить доступ, обратитесь к команде RPA.',
    failed: (robot: string) => `Робота «${robot}» не удалось запустить.`,
    reason: (r: string) => `Причина: ${r}.`,
    retrying: 'mailrun продолжит попытки сам: отправлять письмо ещё раз не нужно. Когда робот запустится, придёт письмо.',
    notRetrying: 'Повторных попыток не будет. Устраните причину (или обратитесь к команде RPA) и отправьте письмо снова.',
    finished: { completed: (r: string) => `Робот «${r}» успешно завершил работу.`, faulted: (r: string) => `Робот «${r}» завершился с ошибкой.`, stopped: (r: string) => `Робот «${r}» был остановлен.` },
    runTime: (s: string) => `Время работы: ${s}`,
    failure: (info: string) => `Что пошло не так: ${info}`,
    outputs: 'Результаты:',
    help: 'Роботы, которых можно запускать письмом. Укажите имя робота в теме, а параметры и функции — в тексте письма, по одной на строке.',
    noRobots: 'Пока нет роботов, которых вы можете запускать. Обратитесь к команде RPA.',
    takes: 'параметры',
    fns: 'функции',
    units: { h: 'ч', min: 'мин', s: 'с' },
    statusRecent: 'Ваши последние запуски, сначала новые:',
    statusNone: 'Вы ещё не запускали роботов письмом.',
    statusOne: 'Ваш запуск:',
    statusNotFound: (ref: string) => `Ни один ваш запуск не подходит под «${ref}». Напишите в теме «статус» — придут последние запуски, или «статус» и номер задания из ответа.`,
    statusHint: 'Чтобы узнать подробности об одном из них, напишите в теме «статус» и номер задания.',
    history: 'История:',
    states: { pending: 'ждёт запуска', launching: 'запускается', launched: 'работает', completed: 'успешно завершён', faulted: 'завершился с ошибкой', stopped: 'остановлен', failed: 'не удалось запустить', retrying: 'ждёт запуска (повторная попытка)' } as Record<string, string>,
    jobNo: (id: number) => `задание ${id}`,
    sentBy: (who: string) => `отправил(а) ${who}`,
    cancel: {
      cancelled: (r: string) => `Робот «${r}» не будет запущен: запуск отменён до старта.`,
      stopRequested: (r: string, job: number, kill: boolean) => `Робот «${r}» (задание ${job}) ${kill ? 'принудительно завершается' : 'останавливается'}. Когда он остановится, придёт письмо.`,
      starting: (r: string) => `Робот «${r}» как раз запускается, отменить его в эту секунду нельзя. Напишите «отмена» ещё раз через минуту — тогда он будет остановлен.`,
      ended: (r: string, state: string) => `Робот «${r}» уже завершил работу (${state}): отменять нечего.`,
      queueItem: (r: string) => `Робот «${r}» работает через очередь: сейчас не удалось найти её элементы в Orchestrator. Попробуйте позже или обратитесь к команде RPA.`,
      queueDeleted: (r: string, deleted: number, kept: number) => `Из очереди робота «${r}» удалено элементов: ${deleted}${kept > 0 ? `; ещё ${kept} робот уже взял в работу, они остаются` : ''}.`,
      stopFailed: (r: string, job: number, reason: string) => `Робота «${r}» (задание ${job}) не удалось остановить: ${reason}. Попробуйте ещё раз или обратитесь к команде RPA.`,
      notStoppable: (r: string) => `Робот «${r}» работает в системе, которую mailrun остановить не может: он уже запущен и продолжает работу. Попросите команду RPA остановить его там.`,
      runStopRequested: (r: string) => `Робот «${r}» останавливается. Когда он остановится, придёт письмо.`,
      runStopFailed: (r: string, reason: string) => `Робота «${r}» не удалось остановить: ${reason}. Попробуйте ещё раз или обратитесь к команде RPA.`,
      notFound: (ref: string) => ref === '' ? 'Какой запуск отменить? Ответьте «отмена» на письмо mailrun о нём или напишите в теме «отмена» и номер задания.' : `Ни один ваш запуск не подходит под «${ref}»: ничего не отменено. Напишите в теме «отмена» и номер задания из ответа.`
    },
    sent: (at: string) => `отправлен ${at}`,
    startedAt: (at: string) => `запущен ${at}`,
    finishedAt: (at: string) => `завершён ${at}`,
    signature: 'mailrun (автоматический ответ)'
  }
} as const

const SAMPLE: Record<ParameterDeclaration['type'], string> = { string: 'text', number: '42', boolean: 'yes', date: '2026-05-31' }

/** An email that would pass this robot's checks: every required input, every function once. */
export function exampleCommand (robot: CatalogueEntry): string {
  const required = (ps: ParameterDeclaration[]) => ps.filter((p) => p.required).map((p) => ({ name: p.name, value: SAMPLE[p.type] }))
  return renderCommand({ arguments: required(robot.parameters), calls: robot.functions.map((f) => ({ name: f.name, args: required(f.parameters) })) })
}

function catalogue (entries: CatalogueEntry[], w: typeof words[Locale], locale: Locale): string[] {
  if (entries.length === 0) return [w.noRobots]
  const lines: string[] = []
  for (const robot of entries) {
    lines.push('', `• ${robot.name}${robot.description !== '' ? ` — ${robot.description}` : ''}`)
    if (robot.parameters.length > 0) lines.push(`  ${w.takes}: ${describeParameters(robot.parameters, locale)}`)
    if (robot.functions.length > 0) lines.push(`  ${w.fns}: ${robot.functions.map((f) => `${f.name}${f.parameters.length > 0 ? ` (${describeParameters(f.parameters, locale)})` : ''}${f.description !== undefined ? ` — ${f.description}` : ''}`).join('; ')}`)
    lines.push(`  ${w.exampleFor(robot.name)}`, `    ${w.subjectIs(robot.name)}`, ...exampleCommand(robot).split('\n').filter(Boolean).map((l) => `    ${l}`))
  }
  return lines
}

function duration (seconds: number, u: typeof words[Locale]['units']): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = Math.round(seconds % 60)
  return h > 0 ? `${h} ${u.h} ${m} ${u.min}` : m > 0 ? `${m} ${u.min} ${s} ${u.s}` : `${s} ${u.s}`
}

function outputLines (outputs: Record<string, unknown>): string[] {
  return Object.entries(outputs).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
}

/** A moment as senders read it wherever they are: minutes, UTC said. */
const when = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`

function statusLines (report: StatusReport, w: typeof words[Locale], locale: Locale): string[] {
  if (report.history === null) return [w.statusNotFound(report.ref ?? '')]
  if (report.launches.length === 0) return [w.statusNone]
  const lines: string[] = [report.history !== undefined ? w.statusOne : w.statusRecent]
  for (const l of report.launches) {
    const facts = [w.states[l.state] ?? l.state, ...(l.jobId !== null ? [w.jobNo(l.jobId)] : []), l.launchedAt !== null ? w.startedAt(when(l.launchedAt)) : w.sent(when(l.createdAt)), ...(l.finishedAt !== null ? [w.finishedAt(when(l.finishedAt))] : [])]
    lines.push('', `• ${l.robot} — ${facts.join(' · ')}`, ...(l.by !== null ? [`  ${w.sentBy(l.by)}`] : []), ...(l.summary !== null ? [`  ${locale === 'en' ? l.summary : historyDetail(l.summary, locale)}`] : []))
  }
  if (report.history !== undefined) {
    lines.push('', w.history, ...report.history.map((e) => `  ${when(e.at)}  ${w.states[e.state] ?? e.state}${e.detail !== null ? ` — ${historyDetail(e.detail, locale)}` : ''}`))
  } else {
    lines.push('', w.statusHint)
  }
  return lines
}

/** The lines set aside as a greeting or a signature, quoted, so the sender sees nothing was lost unsaid. */
function ignoredLines (ignored: string[] | undefined, w: typeof words[Locale]): string[] {
  if (ignored === undefined || ignored.length === 0) return []
  const shown = ignored.slice(0, 10).map((l) => `  «${l.length > 120 ? `${l.slice(0, 119)}…` : l}»`)
  return ['', w.ignored, ...shown, ...(ignored.length > 10 ? ['  …'] : [])]
}

function body (content: ReplyContent, w: typeof words[Locale], locale: Locale): string[] {
  switch (content.kind) {
    case 'launched': {
      const args = Object.entries(content.plan.arguments)
      const rows = content.rows
      if (rows !== undefined && content.queue !== null) {
        return [
          w.launched(content.robot),
          w.rowsAdded(rows.added, content.queue),
          ...(rows.skipped.ignoredColumns !== undefined && rows.skipped.ignoredColumns.length > 0 ? [problemText(problem('ignored_columns', { columns: rows.skipped.ignoredColumns }), locale)] : []),
          ...(rows.skipped.rows > 0 ? ['', w.rowsSkipped(rows.skipped.rows), ...rows.skipped.problems.map((p) => `  ${problemText(p, locale)}`)] : []),
          ...(rows.refused.rows > 0 ? ['', w.rowsRefused(rows.refused.rows), ...rows.refused.problems.map((p) => `  ${problemText(p, locale)}`)] : []),
          ...(args.length > 0 ? ['', w.inputs, ...args.map(([k, v]) => `  ${k} = ${String(v)}`)] : [])
        ]
      }
      return [
        w.launched(content.robot),
        content.queue !== null ? w.queued(content.queue) : content.jobId !== null ? w.job(content.jobId) : '',
        '', w.understood,
        w.inputs, ...(args.length === 0 ? [`  ${w.none}`] : args.map(([k, v]) => `  ${k} = ${String(v)}`)),
        w.functions, ...(content.plan.functions.length === 0 ? [`  ${w.none}`] : content.plan.functions.map((f, i) => `  ${i + 1}. ${f.name}${Object.keys(f.args).length > 0 ? `: ${Object.entries(f.args).map(([k, v]) => `${k} = ${String(v)}`).join(', ')}` : ''}`)),
        ...ignoredLines(content.plan.ignored, w),
        '', ...(content.queue === null ? [w.willReport] : [])
      ]
    }
    case 'rejected': {
      const lines: string[] = [w.rejected, '']
      for (const p of content.problems) lines.push(`${p.line !== undefined ? `${w.line(p.line)}${p.text !== undefined ? ` «${p.text}»` : ''}: ` : (p.text !== undefined ? `«${p.text}»: ` : '')}${problemText(p, locale)}`)
      lines.push(...ignoredLines(content.ignored, w))
      const robot = content.robot === null ? undefined : content.catalogue.find((r) => r.name === content.robot)
      if (robot !== undefined) lines.push('', w.exampleFor(robot.name), `  ${w.subjectIs(robot.name)}`, ...exampleCommand(robot).split('\n').filter(Boolean).map((l) => `  ${l}`))
      else lines.push('', w.unknownRobotList, ...catalogue(content.catalogue, w, locale))
      return lines
    }
    case 'not_allowed':
      return [w.notAllowed(content.robot), content.contact !== null ? w.askContact(content.contact) : w.askAdmin]
    case 'failed':
      return [w.failed(content.robot), w.reason(reasonText(content.reason, locale)), '', content.retrying ? w.retrying : w.notRetrying]
    case 'finished':
      return [
        w.finished[content.state](content.robot),
        ...(content.jobId !== null ? [w.job(content.jobId)] : []),
        ...(content.runSeconds !== null ? [w.runTime(duration(content.runSeconds, w.units))] : []),
        ...(content.state === 'faulted' && content.info !== null ? [w.failure(content.info)] : []),
        ...(content.outputs !== null && Object.keys(content.outputs).length > 0 ? ['', w.outputs, ...outputLines(content.outputs)] : [])
      ]
    case 'help':
      return [w.help, ...catalogue(content.catalogue, w, locale)]
    case 'status':
      return statusLines(content.report, w, locale)
    case 'cancel': {
      const r = content.result
      switch (r.outcome) {
        case 'cancelled': return [w.cancel.cancelled(r.robot)]
        case 'stop_requested': return [w.cancel.stopRequested(r.robot, r.jobId, r.kill)]
        case 'starting': return [w.cancel.starting(r.robot)]
        case 'ended': return [w.cancel.ended(r.robot, w.states[r.state] ?? r.state)]
        case 'queue_item': return [w.cancel.queueItem(r.robot)]
        case 'queue_deleted': return [w.cancel.queueDeleted(r.robot, r.deleted, r.kept)]
        case 'stop_failed': return [w.cancel.stopFailed(r.robot, r.jobId, reasonText(r.reason, locale))]
        case 'not_stoppable': return [w.cancel.notStoppable(r.robot)]
        case 'run_stop_requested': return [w.cancel.runStopRequested(r.robot)]
        case 'run_stop_failed': return [w.cancel.runStopFailed(r.robot, reasonText(r.reason, locale))]
        case 'not_found': return [w.cancel.notFound(r.ref)]
      }
    }
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)

/** One line, no control characters: nothing from an email or Orchestrator can add a header. */
export function replySubject (original: string): string {
  // Control characters (CR, LF, NUL…) are exactly what must not reach a header.
  // eslint-disable-next-line no-control-regex
  let clean = original.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim()
  // One "Re:" however many the thread piled up (Re: Re[2]: НА: …).
  for (let previous = ''; previous !== clean;) {
    previous = clean
    clean = clean.replace(SUBJECT_PREFIX, '')
  }
  return `Re: ${clean.slice(0, 200)}`
}

export function composeReply (content: ReplyContent, locale: Locale, originalSubject: string): ComposedReply {
  const w = words[locale]
  const lines = [...body(content, w, locale), '', '-- ', w.signature]
  const text = lines.join('\n').replace(/\n{3,}/g, '\n\n')
  // Every value is escaped: the HTML alternative shows the same text, never markup from input.
  const html = `<!doctype html><html><body><pre style="font-family:inherit;white-space:pre-wrap">${escapeHtml(text)}</pre></body></html>`
  return { subject: replySubject(originalSubject), text, html }
}
