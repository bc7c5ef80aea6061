import { ruPlural, type Locale } from '../commands/problem-text.js'

// A launch's history lines and failure reasons are written once, in English, where they happen
// (the launch service, the job tracker, a cancel, the Orchestrator client). A reply in Russian says
// each known line in Russian; what Orchestrator or the network said in its own words is quoted.

type Rule = [RegExp, (m: RegExpExecArray) => string]

const jobStates: Record<string, string> = { successful: 'успешно', faulted: 'с ошибкой', stopped: 'остановлено', running: 'выполняется', pending: 'ожидает', stopping: 'останавливается', terminating: 'завершается', suspended: 'приостановлено', resumed: 'продолжено' }

const runStates: Record<string, string> = { completed: 'успешно', faulted: 'с ошибкой', stopped: 'остановлен' }

const cancelOutcomes: Record<string, string> = { cancelled: 'отменён до запуска', stop_requested: 'запрошена остановка', starting: 'запускается, отменить пока нельзя', ended: 'уже завершён', queue_item: 'элементы очереди не найдены', queue_deleted: 'элементы очереди удалены', stop_failed: 'остановить не удалось', not_stoppable: 'остановить из mailrun нельзя', run_stop_requested: 'запрошена остановка', run_stop_failed: 'остановить не удалось', not_found: 'запуск не найден' }

const items = (n: number): string => ruPlural(n, 'элемент', 'элемента', 'элементов')

/** Who acted, as recorded: an API key's words in Russian, a person's name as it is. */
const who = (text: string | undefined): string => (text ?? '').replace(/^API key /, 'ключ API ').replace(/ \(console\)$/, ' (консоль)')

const ru: Rule[] = [
  [/^command accepted$/, () => 'команда принята'],
  [/^job (\d+) started$/, (m) => `задание ${m[1] ?? ''} запущено`],
  [/^job (\d+) found by .+ after an unclear attempt$/, (m) => `задание ${m[1] ?? ''} найдено после попытки запуска без ясного ответа`],
  [/^(\d+) queue items? added to (.+?)(?:; (\d+) refused)?$/, (m) => `в очередь «${m[2] ?? ''}» добавлено: ${m[1] ?? ''} ${items(Number(m[1]))}${m[3] !== undefined ? `; отклонено: ${m[3]}` : ''}`],
  [/^queue item added to (.*)$/, (m) => `элемент добавлен в очередь «${m[1] ?? ''}»`],
  [/^queue item found by reference after an unclear attempt in (.*)$/, (m) => `элемент найден в очереди «${m[1] ?? ''}» после попытки без ясного ответа`],
  [/^queue item was already in (.*)$/, (m) => `элемент уже был в очереди «${m[1] ?? ''}»`],
  [/^cancelled by (.+) before it started$/, (m) => `отменён до запуска (${who(m[1])})`],
  [/^retried by (.+)$/, (m) => `повторная попытка (${who(m[1])})`],
  [/^console test by (.+)$/, (m) => `тестовый запуск (${who(m[1]).replace(/^the API \(tenant key\)$/, 'через API, ключ арендатора').replace(/ in the console$/, ' в консоли')})`],
  [/^replayed by (.+)$/, (m) => `письмо разобрано повторно (${who(m[1])})`],
  [/^(stop|kill) requested by (.+)$/, (m) => `${m[1] === 'kill' ? 'принудительное завершение' : 'остановку'} запросил(а) ${who(m[2])}`],
  [/^(\d+) queue items? deleted by (.+?)(?:; (\d+) already taken by a robot)?$/, (m) => `из очереди удалено: ${m[1] ?? ''} ${items(Number(m[1]))} (${m[2] ?? ''})${m[3] !== undefined ? `; ${m[3]} уже взяты роботом` : ''}`],
  [/^run (?:(\S+) )?started at the HTTP target$/, (m) => `запуск ${m[1] !== undefined ? `${m[1]} ` : ''}начат на HTTP-цели`],
  [/^run (completed|faulted|stopped)(?:: ([\s\S]*))?$/, (m) => `запуск: ${runStates[m[1] ?? ''] ?? m[1] ?? ''}${m[2] !== undefined ? ` — сообщение платформы: «${m[2]}»` : ''}`],
  [/^job (\w+)(?:: ([\s\S]*))?$/, (m) => `задание: ${jobStates[(m[1] ?? '').toLowerCase()] ?? m[1] ?? ''}${m[2] !== undefined ? ` — сообщение Orchestrator: «${m[2]}»` : ''}`],
  // Why a launch failed or waits (the launch service and the Orchestrator client).
  [/^gave up after (\d+) attempts: ([\s\S]*)$/, (m) => `попыток: ${m[1] ?? ''}, все неудачны; последняя причина: ${reasonText(m[2] ?? '', 'ru')}`],
  [/^no clear answer to the start \(([\s\S]*)\)$/, (m) => `нет ясного ответа на запуск (${reasonText(m[1] ?? '', 'ru')})`],
  [/^the job was not found yet after an unclear start$/, () => 'после запуска без ясного ответа задание пока не найдено'],
  [/^(\d+) of (\d+) rows found in the queue after an unclear attempt$/, (m) => `после попытки без ясного ответа в очереди найдено строк: ${m[1] ?? ''} из ${m[2] ?? ''}`],
  [/^Orchestrator folder "(.*)" was not found \(or these credentials cannot see it\)$/, (m) => `папка Orchestrator «${m[1] ?? ''}» не найдена (или у этих учётных данных нет к ней доступа)`],
  [/^Orchestrator folder(?: "(.*)")? was not found$/, (m) => `папка Orchestrator${m[1] !== undefined ? ` «${m[1]}»` : ''} не найдена`],
  [/^process(?: "(.*)")? was not found in folder(?: "(.*)")?$/, (m) => `процесс${m[1] !== undefined ? ` «${m[1]}»` : ''} не найден в папке${m[2] !== undefined ? ` «${m[2]}»` : ''}`],
  [/^Orchestrator refused every row of the spreadsheet \(([\s\S]*)\)$/, (m) => `Orchestrator отклонил все строки таблицы (${m[1] ?? ''})`],
  [/^the robot was deleted before it could be launched$/, () => 'робот был удалён до запуска'],
  [/^no Orchestrator connection is configured for this tenant/, () => 'подключение к Orchestrator не настроено'],
  [/^robot "(.*)" names no folder and the Orchestrator connection has no default folder$/, (m) => `у робота «${m[1] ?? ''}» не указана папка, и у подключения к Orchestrator нет папки по умолчанию`],
  [/^the command is too large for Orchestrator: its input arguments take (\d+) characters and the limit is (\d+)/, (m) => `команда слишком велика для Orchestrator: входные данные занимают ${m[1] ?? ''} символов при пределе ${m[2] ?? ''}; пришлите меньше функций или значения короче`],
  [/^no robot machine with an unattended runtime is available in folder(?: "(.*)")?$/, (m) => `в папке${m[1] !== undefined ? ` «${m[1]}»` : ''} нет свободной машины с роботом для автоматического запуска`],
  [/^no user with an unattended robot is assigned to folder(?: "(.*)")?$/, (m) => `в папке${m[1] !== undefined ? ` «${m[1]}»` : ''} нет пользователя с роботом для автоматического запуска`],
  [/^the request did not name a folder$/, () => 'в запросе не указана папка'],
  [/^Orchestrator did not accept the credentials/, () => 'Orchestrator не принял учётные данные (истекли или неверны)'],
  [/^the Orchestrator credentials lack a permission/, () => 'учётным данным Orchestrator не хватает прав (проверьте области доступа внешнего приложения или роли пользователя)'],
  [/^Orchestrator is throttling requests$/, () => 'Orchestrator временно ограничивает число запросов'],
  [/^Orchestrator had a server error \((\d+)\)$/, (m) => `ошибка на сервере Orchestrator (${m[1] ?? ''})`],
  [/^Orchestrator answered (\d+)(?:: ([\s\S]*))?$/, (m) => `Orchestrator ответил ${m[1] ?? ''}${m[2] !== undefined ? `: «${m[2]}»` : ''}`],
  [/^could not connect to Orchestrator at (\S+) within the connect timeout/, (m) => `не удалось подключиться к Orchestrator (${m[1] ?? ''}) за отведённое время`],
  [/^Orchestrator at (\S+) did not answer within ([\d.]+) s/, (m) => `Orchestrator (${m[1] ?? ''}) не ответил за ${m[2] ?? ''} с`],
  [/^the HTTP target answered (\d+) to (the launch|the status request)(?:: ([\s\S]*))?$/, (m) => `HTTP-цель ответила ${m[1] ?? ''} на ${m[2] === 'the launch' ? 'запуск' : 'запрос состояния'}${m[3] !== undefined ? `: «${m[3]}»` : ''}`],
  [/^the target answered (\d+) to a GET \(no run was started\)$/, (m) => `цель ответила ${m[1] ?? ''} на GET (запуск не начат)`],
  [/^could not connect to the HTTP target at (\S+) within the connect timeout/, (m) => `не удалось подключиться к HTTP-цели (${m[1] ?? ''}) за отведённое время`],
  [/^the HTTP target at (\S+) did not answer within ([\d.]+) s/, (m) => `HTTP-цель (${m[1] ?? ''}) не ответила за ${m[2] ?? ''} с`],
  [/^desktop flow run (\S+) started$/, (m) => `запуск классического потока ${m[1] ?? ''} начат`],
  [/^desktop flow run (\S+) found by MailrunLaunchId after an unclear attempt$/, (m) => `запуск классического потока ${m[1] ?? ''} найден после попытки без ясного ответа`],
  [/^desktop flow (\S+) was not found in the Power Automate environment/, (m) => `классический поток ${m[1] ?? ''} не найден в среде Power Automate (или у приложения нет к нему доступа)`],
  [/^Microsoft Entra did not give a token for the Power Automate environment: ([\s\S]*)$/, (m) => `Microsoft Entra не выдал токен для среды Power Automate: ${reasonText(m[1] ?? '', 'ru')}`],
  [/^token endpoint (\S+) answered (\d+) without an access_token$/, (m) => `сервер токенов ${m[1] ?? ''} ответил ${m[2] ?? ''} без токена доступа`],
  [/^token endpoint (\S+) answered (\d+): ([\s\S]*)$/, (m) => `сервер токенов ${m[1] ?? ''} ответил ${m[2] ?? ''}: «${m[3] ?? ''}»`],
  [/^token endpoint (\S+) could not be reached: (\S+)$/, (m) => `сервер токенов ${m[1] ?? ''} недоступен (${m[2] ?? ''})`],
  [/^Power Automate is throttling desktop flow runs on this connection/, () => 'Power Automate временно ограничивает число запусков на этом подключении (70 в минуту)'],
  [/^Power Automate refused (.+?): the app user lacks a privilege in the environment \(([\s\S]*)\)$/, (m) => `Power Automate отказал: у пользователя-приложения нет нужной привилегии в среде («${m[2] ?? ''}»)`],
  [/^Power Automate answered (\d+) to (?:the run|the status request|the cancel|the look-up of recent runs)(?:: ([\s\S]*))?$/, (m) => `Power Automate ответил ${m[1] ?? ''}${m[2] !== undefined ? `: «${m[2]}»` : ''}`],
  [/^could not reach Power Automate at (\S+):/, (m) => `Power Automate (${m[1] ?? ''}) недоступен`],
  [/^Power Automate at (\S+) did not answer within ([\d.]+) s/, (m) => `Power Automate (${m[1] ?? ''}) не ответил за ${m[2] ?? ''} с`],
  [/^bot deployment (\S+) started$/, (m) => `бот запущен (развёртывание ${m[1] ?? ''})`],
  [/^bot deployment (\S+) found by its automation name .* after an unclear attempt$/, (m) => `развёртывание бота ${m[1] ?? ''} найдено после попытки без ясного ответа`],
  [/^bot (\d+) was not found in the Control Room's public workspace/, (m) => `бот ${m[1] ?? ''} не найден в общем репозитории Control Room (или у пользователя нет к нему доступа)`],
  [/^the Control Room refused the sign-in of (.+?) \((\d+)\)(?:: ([\s\S]*))?$/, (m) => `Control Room не принял вход пользователя ${m[1] ?? ''} (${m[2] ?? ''})${m[3] !== undefined ? `: «${m[3]}»` : ''}`],
  [/^the Control Room is throttling requests$/, () => 'Control Room временно ограничивает число запросов'],
  [/^the Control Room refused (.+?): the user lacks a permission \(([\s\S]*)\)$/, (m) => `Control Room отказал: у пользователя нет нужного права («${m[2] ?? ''}»)`],
  [/^the Control Room answered (\d+) to (?:the deployment|the activity look-up|the stop|listing bots|the work items|the work item look-up)(?:: ([\s\S]*))?$/, (m) => `Control Room ответил ${m[1] ?? ''}${m[2] !== undefined ? `: «${m[2]}»` : ''}`],
  [/^the Control Room answered the deployment without a deploymentId$/, () => 'Control Room ответил на развёртывание без deploymentId'],
  [/^the Control Room did not stop the run: ([\s\S]*)$/, (m) => `Control Room не остановил запуск: «${m[1] ?? ''}»`],
  [/^could not reach the Control Room at (\S+):/, (m) => `Control Room (${m[1] ?? ''}) недоступен`],
  [/^could not connect to the Control Room at (\S+) within the connect timeout/, (m) => `не удалось подключиться к Control Room (${m[1] ?? ''}) за отведённое время`],
  [/^the Control Room at (\S+) did not answer within ([\d.]+) s/, (m) => `Control Room (${m[1] ?? ''}) не ответил за ${m[2] ?? ''} с`],
  [/^work queue (\d+) was not found in the Control Room/, (m) => `очередь ${m[1] ?? ''} не найдена в Control Room (или у пользователя нет к ней доступа)`],
  [/^robot "(.*)" names no work queue/, (m) => `у робота «${m[1] ?? ''}» не указана очередь`],
  [/^robot "(.*)" names no bot/, (m) => `у робота «${m[1] ?? ''}» не указан бот`],
  [/^robot "(.*)" names no desktop flow/, (m) => `у робота «${m[1] ?? ''}» не указан классический поток`],
  [/^could not reach the HTTP target at (\S+):/, (m) => `HTTP-цель (${m[1] ?? ''}) недоступна`],
  [/^could not reach Orchestrator at (\S+):/, (m) => `Orchestrator (${m[1] ?? ''}) недоступен`],
  [/^(Orchestrator|the HTTP target|Power Automate|the Control Room) has not answered yet; mailrun keeps trying/, (m) => `${m[1] === 'the HTTP target' ? 'HTTP-цель пока не ответила' : `${m[1] === 'the Control Room' ? 'Control Room' : m[1] ?? ''} пока не ответил`}; mailrun продолжает попытки и сообщит результат`],
  [/^the launch will be retried$/, () => 'запуск будет повторён'],
  [/^the Orchestrator connection or the robot's folder is no longer known$/, () => 'подключение к Orchestrator или папка робота больше не известны'],
  // What became of a message (the console shows it beside the message).
  [/^the mailbox is inactive$/, () => 'ящик отключён'],
  [/^unreadable message: ([\s\S]*)$/, (m) => `письмо не читается: «${m[1] ?? ''}»`],
  [/^automatic message \((.*)\)$/, (m) => `автоматическое письмо (${m[1] ?? ''})`],
  [/^mailing-list message \((.*)\)$/, (m) => `письмо из рассылки (${m[1] ?? ''})`],
  [/^automatic reply \((.*)\)$/, (m) => `автоответ (${m[1] ?? ''})`],
  [/^delivery report$/, () => 'отчёт о доставке'],
  [/^bounce \(empty return path\)$/, () => 'возврат недоставленного письма (пустой обратный адрес)'],
  [/^bounce \(from MAILER-DAEMON or postmaster\)$/, () => 'возврат недоставленного письма (от MAILER-DAEMON или postmaster)'],
  [/^ambiguous sender: ([\s\S]*)$/, (m) => `отправитель неоднозначен: «${m[1] ?? ''}»`],
  [/^sender authentication failed: ([\s\S]*)$/, (m) => `подлинность отправителя не подтверждена: «${m[1] ?? ''}»`],
  [/^unknown sender: not on the allow-list of this tenant$/, () => 'неизвестный отправитель: его нет в списке'],
  [/^the sender is deactivated$/, () => 'отправитель отключён'],
  [/^help requested$/, () => 'запрошена справка'],
  [/^status requested$/, () => 'запрошен статус'],
  [/^status requested in a thread$/, () => 'запрошен статус (ответом в переписке)'],
  [/^cancel requested( in a thread)?: (\w+)$/, (m) => `запрошена отмена${m[1] !== undefined ? ' (ответом в переписке)' : ''}: ${cancelOutcomes[m[2] ?? ''] ?? m[2] ?? ''}`],
  [/^a reply with nothing to run in it/, () => 'ответ без команды (благодарность или только подпись)'],
  [/^unknown robot "(.*)"$/, (m) => `неизвестный робот «${m[1] ?? ''}»`],
  [/^not allowed to run "(.*)"$/, (m) => `нет права запускать «${m[1] ?? ''}»`],
  [/^the email has (\d+) problems?$/, (m) => `ошибок в письме: ${m[1] ?? ''}`],
  [/^(\d+) invalid rows? left out$/, (m) => `пропущено строк с ошибками: ${m[1] ?? ''}`],
  [/^this message was already received$/, () => 'это письмо уже было получено'],
  [/^stored; it will be processed shortly$/, () => 'сохранено; будет обработано в ближайшее время'],
  [/^could not be processed after (\d+) attempts: ([\s\S]*)$/, (m) => `не удалось обработать за ${m[1] ?? ''} попыток: «${m[2] ?? ''}»`],
  [/^not processed yet \(attempt (\d+) failed: ([\s\S]*)\)$/, (m) => `ещё не обработано (попытка ${m[1] ?? ''} не удалась: «${m[2] ?? ''}»)`]
]

function known (line: string): string | null {
  for (const [pattern, say] of ru) {
    const match = pattern.exec(line)
    if (match !== null) return say(match)
  }
  return null
}

/** A history line in the reply's language. */
export function historyDetail (detail: string, locale: Locale): string {
  if (locale === 'en') return detail
  // Not a line mailrun writes in a known form: Orchestrator's or the network's own words.
  return known(detail) ?? `подробности: «${detail}»`
}

/** Why a launch failed, in the reply's language; words of unknown form are quoted as they came. */
export function reasonText (reason: string, locale: Locale): string {
  if (locale === 'en') return reason
  return known(reason) ?? `«${reason}»`
}

/** A line mailrun wrote, as the console shows it: in Russian when its form is known, else as it is. */
export function consoleText (line: string, locale: Locale): string {
  if (locale === 'en') return line
  return known(line) ?? line
}
