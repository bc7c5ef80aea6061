import type { Locale } from './i18n.js'
import { consoleText } from '../notify/history-text.js'

// What the console says when a form is refused, in the user's language. The rules below the API
// (validation, resources) say it in English, for API callers; a Russian console must not show an
// English sentence, and "must match format \"idn-email\"" is not how a tenant admin speaks in
// either language. A refusal is read field by field (its `details`) or as one message; a message
// no rule knows is shown as written.

type Rule = [RegExp, (m: RegExpExecArray) => string]

/** The fields a console form has, as its labels name them. */
const FIELDS: Record<string, { en: string, ru: string }> = {
  email: { en: 'Email', ru: 'Эл. почта' },
  fullName: { en: 'Full name', ru: 'Полное имя' },
  name: { en: 'Name', ru: 'Имя' },
  role: { en: 'Role', ru: 'Роль' },
  password: { en: 'Password', ru: 'Пароль' },
  address: { en: 'Address', ru: 'Адрес' },
  maxMailboxes: { en: 'Licences (mailboxes)', ru: 'Лицензии (ящики)' },
  contactEmail: { en: 'Contact address', ru: 'Контактный адрес' },
  domains: { en: 'Mail domains', ru: 'Почтовые домены' },
  retentionDays: { en: 'Days to keep content', ru: 'Срок хранения (дней)' },
  processName: { en: 'Orchestrator process', ru: 'Процесс Orchestrator' },
  queueName: { en: 'Queue', ru: 'Очередь' },
  folder: { en: 'Folder', ru: 'Папка' },
  robotId: { en: 'Robot', ru: 'Робот' },
  senderId: { en: 'Sender', ru: 'Отправитель' },
  mailboxId: { en: 'Mailbox', ru: 'Ящик' },
  text: { en: 'Body', ru: 'Текст' },
  url: { en: 'URL', ru: 'URL' },
  connectionId: { en: 'Launched through', ru: 'Где запускается' },
  launchMode: { en: 'Launch mode', ru: 'Способ запуска' },
  attachments: { en: 'Attachments', ru: 'Вложения' },
  signingSecret: { en: 'Signing secret', ru: 'Секрет подписи' },
  parameters: { en: 'Inputs', ru: 'Входные данные' },
  functions: { en: 'Functions', ru: 'Функции' },
  senderIds: { en: 'Who may run it', ru: 'Кто может запускать' },
  kind: { en: 'Kind', ru: 'Вид' },
  events: { en: 'Events', ru: 'События' },
  roomId: { en: 'Chatwork room number', ru: 'Номер комнаты Chatwork' },
  token: { en: 'Chatwork API token', ru: 'API-токен Chatwork' },
  recipients: { en: 'Email addresses', ru: 'Адреса эл. почты' },
  timeZone: { en: 'Time zone', ru: 'Часовой пояс' },
  'canary.intervalMinutes': { en: 'Canary every (minutes)', ru: 'Проверочное письмо каждые (минут)' },
  'canary.deadlineSeconds': { en: 'Canary must be found within (seconds)', ru: 'Проверочное письмо должно найтись за (секунд)' },
  'imap.processedFolder': { en: 'Folder for handled mail', ru: 'Папка для обработанных писем' },
  'imap.rejectedFolder': { en: 'Folder for refused mail', ru: 'Папка для отклонённых писем' }
}

function fieldName (field: string, locale: Locale): string {
  const whole = FIELDS[field]
  if (whole !== undefined) return whole[locale]
  const [head = field, ...rest] = field.split(/[./]/)
  const known = FIELDS[head]
  if (known === undefined) return field
  return rest.length === 0 ? known[locale] : `${known[locale]} (${rest.join('.')})`
}

const PLATFORMS_RU: Record<string, string> = { 'an HTTP target': 'HTTP-цель', 'Power Automate': 'Power Automate', 'Automation Anywhere': 'Automation Anywhere' }
const platformRu = (name: string | undefined): string => PLATFORMS_RU[name ?? ''] ?? name ?? ''

/** What a field must be, from the validator's words. */
const FIELD_RULES: Record<Locale, Rule[]> = {
  en: [
    [/^must match format "(?:idn-)?email"$/, () => 'must be an email address, like name@example.com'],
    [/^must match format "uuid"$/, () => 'must be chosen from the list'],
    [/^must match format "date-time"$/, () => 'must be a date and time'],
    [/^must match format "uri"$/, () => 'must be a web address, like https://host/path'],
    [/^must NOT have fewer than 1 characters$/, () => 'must not be empty'],
    [/^must NOT have fewer than (\d+) characters$/, (m) => `must be at least ${m[1] ?? ''} characters long`],
    [/^must NOT have more than (\d+) characters$/, (m) => `must be at most ${m[1] ?? ''} characters long`],
    [/^must NOT have more than (\d+) items$/, (m) => `may list at most ${m[1] ?? ''}`],
    [/^must NOT have fewer than 1 items$/, () => 'choose at least one'],
    [/^must be integer$/, () => 'must be a whole number'],
    [/^must be number$/, () => 'must be a number'],
    [/^must be >= (\S+)$/, (m) => `must be at least ${m[1] ?? ''}`],
    [/^must be <= (\S+)$/, (m) => `must be at most ${m[1] ?? ''}`],
    [/^must be boolean$/, () => 'must be yes or no']
  ],
  ru: [
    [/^must match format "(?:idn-)?email"$/, () => 'должен быть адресом эл. почты, например name@example.com'],
    [/^must match format "uuid"$/, () => 'нужно выбрать из списка'],
    [/^must match format "date-time"$/, () => 'должно быть датой и временем'],
    [/^must match format "uri"$/, () => 'должно быть веб-адресом, например https://host/path'],
    [/^must NOT have fewer than 1 characters$/, () => 'не может быть пустым'],
    [/^must NOT have fewer than (\d+) characters$/, (m) => `должно быть не короче ${m[1] ?? ''} символов`],
    [/^must NOT have more than (\d+) characters$/, (m) => `должно быть не длиннее ${m[1] ?? ''} символов`],
    [/^must NOT have more than (\d+) items$/, (m) => `не более ${m[1] ?? ''} значений`],
    [/^must NOT have fewer than 1 items$/, () => 'выберите хотя бы одно'],
    [/^is required for a \w+ channel/, () => 'обязательно для канала этого вида'],
    [/^is not used by a \w+ channel: leave it out$/, () => 'не используется каналом этого вида: оставьте пустым'],
    [/^must be the API token as Chatwork shows it/, () => 'должен быть API-токеном в том виде, как его показывает Chatwork (латинские буквы и цифры, без пробелов)'],
    [/^is used only with afterProcessing move/, () => 'используется только при перемещении обработанных писем: выберите «перемещать в папку» или оставьте поле пустым'],
    [/^"(.*)" is a folder the sweep reads for new mail: choose another$/, (m) => `«${m[1] ?? ''}» — папка, в которой mailrun ищет новые письма: выберите другую`],
    [/^choose at least one event, or a digest$/, () => 'выберите хотя бы одно событие или сводку'],
    [/^"(.*)" is not a time zone: use an IANA name such as Europe\/Moscow or UTC$/, (m) => `«${m[1] ?? ''}» — не часовой пояс: укажите название IANA, например Europe/Moscow или UTC`],
    [/^is not a valid URL/, () => 'не является адресом: пишите https://хост[:порт][/путь]'],
    [/^must be integer$/, () => 'должно быть целым числом'],
    [/^must be number$/, () => 'должно быть числом'],
    [/^must be >= (\S+)$/, (m) => `должно быть не меньше ${m[1] ?? ''}`],
    [/^must be <= (\S+)$/, (m) => `должно быть не больше ${m[1] ?? ''}`],
    [/^must be boolean$/, () => 'должно быть «да» или «нет»'],
    [/^is required$/, () => 'обязательно'],
    [/^is not a known field; remove it$/, () => 'неизвестное поле: уберите его'],
    [/^must be one of: (.*)$/, (m) => `должно быть одним из: ${m[1] ?? ''}`],
    [/^"(.*)" is not a domain name \(acme\.example\)$/, (m) => `«${m[1] ?? ''}» — не доменное имя (например, acme.example)`],
    [/^must be an address in this tenant's domains \((.*)\); to use another domain, ask the instance admin to add it to the tenant$/, (m) => `должен быть адресом в доменах арендатора (${m[1] ?? ''}); для другого домена попросите администратора экземпляра добавить его арендатору`],
    [/^cannot be registered yet: this tenant has no mail domains\./, () => 'пока нельзя зарегистрировать: у арендатора нет почтовых доменов. Их задаёт администратор экземпляра'],
    [/^is a placeholder \("(.*)"\), not a value: paste the real one$/, (m) => `— заполнитель («${m[1] ?? ''}»), а не значение: вставьте настоящее`],
    [/^names no connection of this tenant/, () => 'не найдено такое подключение у этого арендатора'],
    [/^must be job for a robot launched through (an HTTP target|Power Automate|Automation Anywhere)/, (m) => `должен быть «задание» для робота, запускаемого через ${platformRu(m[1])} (там принимают запуски, а не элементы очереди)`],
    [/^must be null for a robot launched through (an HTTP target|Power Automate|Automation Anywhere)/, (m) => `не задаются для робота, запускаемого через ${platformRu(m[1])}: файлы туда не передаются`],
    [/^is required for a robot on a power_automate connection/, () => 'обязательно для робота на подключении Power Automate: id классического потока и подключение, на котором он выполняется'],
    [/^is required for a robot on an automation_anywhere connection/, () => 'обязательно для робота на подключении Automation Anywhere: id файла бота и пользователи или пулы устройств, на которых он выполняется'],
    [/^names no runAsUserIds and no poolIds/, () => 'не указаны ни пользователи, ни пулы устройств: укажите, где может выполняться бот'],
    [/^is used only by robots on an? \w+ connection/, () => 'используется только роботами на подключении этого вида: оставьте пустым'],
    [/^is required for an? \w+ connection/, () => 'обязательно для подключения этого вида'],
    [/^is not used by an? \w+ connection: leave it out$/, () => 'не используется подключением этого вида: оставьте пустым'],
    [/^names no (robot|sender|mailbox) of this tenant$/, (m) => `не найден${m[1] === 'robot' ? ' робот' : m[1] === 'sender' ? ' отправитель' : ' ящик'} этого арендатора`],
    [/^is required when launchMode is queue$/, () => 'обязательно для робота очереди'],
    [/^names senders that do not exist in this tenant: (.*)$/, (m) => `называет отправителей, которых у арендатора нет: ${m[1] ?? ''}`],
    [/^may not (?:be|point there)[^:]*: (.*)$/, (m) => `недопустимый адрес: ${m[1] ?? ''}`]
  ]
}

/** Whole messages (conflicts, parse errors) in Russian; the English ones are already the API's words. */
const MESSAGE_RULES: Rule[] = [
  [/^a sender with the email (.+) already exists in this tenant$/, (m) => `отправитель с адресом ${m[1] ?? ''} уже есть у этого арендатора`],
  [/^a console user with the email (.+) already exists$/, (m) => `пользователь консоли с адресом ${m[1] ?? ''} уже существует`],
  [/^the address (.+) is already registered as a mailbox$/, (m) => `адрес ${m[1] ?? ''} уже зарегистрирован как ящик`],
  [/^a robot named "(.*)" already exists in this tenant \(names compare case-insensitively\)$/, (m) => `робот «${m[1] ?? ''}» уже есть у этого арендатора (регистр букв не различается)`],
  [/^a robot cannot be named "(.*)": an email whose subject is or starts with "(.*)" is read as that request/, (m) => `робота нельзя назвать «${m[1] ?? ''}»: письмо, тема которого — или начинается с — «${m[2] ?? ''}», читается как этот запрос (справка, статус или отмена), поэтому такого робота нельзя запустить письмом. Выберите другое имя.`],
  [/^a tenant named "(.*)" already exists: choose another name$/, (m) => `арендатор «${m[1] ?? ''}» уже существует: выберите другое имя`],
  [/^(.+) belongs? to another tenant: a domain belongs to one tenant\. Remove it there first\.$/, (m) => `${m[1] ?? ''} — домен(ы) другого арендатора: домен принадлежит одному арендатору. Сначала уберите его там.`],
  [/^licence limit reached: tenant "(.*)" may have (\d+) service mailbox\(es\) and has (\d+)\./, (m) => `лимит лицензий: у арендатора «${m[1] ?? ''}» может быть ящиков: ${m[2] ?? ''}, уже есть: ${m[3] ?? ''}. Удалите ящик или попросите администратора экземпляра увеличить лимит.`],
  [/^the tenant has (\d+) mailboxes: delete some before lowering maxMailboxes to (\d+)$/, (m) => `у арендатора ящиков: ${m[1] ?? ''}; удалите лишние, прежде чем снижать лимит до ${m[2] ?? ''}`],
  [/^a connection named "(.*)" exists: choose another name$/, (m) => `подключение «${m[1] ?? ''}» уже есть: выберите другое имя`],
  [/^a tenant has at most (\d+) connections: delete one first$/, (m) => `у арендатора может быть не более ${m[1] ?? ''} подключений: сначала удалите одно`],
  [/^robots launch through this connection \((.*)\): move them to another connection or delete them first$/, (m) => `через это подключение запускаются роботы (${(m[1] ?? '').replace(/"([^"]*)"/g, '«$1»')}): сначала переведите их на другое подключение или удалите`],
  [/^this is the UiPath Orchestrator connection: change it with PUT \/api\/v1\/orchestrator$/, () => 'это подключение к UiPath Orchestrator: его настройки — в форме выше'],
  [/^this launch runs where mailrun cannot stop it/, () => 'этот запуск выполняется там, где mailrun не может его остановить (HTTP-цель или элементы очереди Automation Anywhere): остановите его там'],
  [/^a notification channel named "(.*)" exists: choose another name$/, (m) => `канал «${m[1] ?? ''}» уже есть: выберите другое имя`],
  [/^a tenant has at most (\d+) notification channels: delete one first$/, (m) => `у арендатора может быть не более ${m[1] ?? ''} каналов оповещений: сначала удалите один`],
  [/^you cannot do this to yourself: ask another admin of your team$/, () => 'это нельзя сделать с самим собой: попросите другого администратора команды'],
  [/^the tenant has no service mailbox yet: a test is a message to one of them, so add a mailbox first$/, () => 'у арендатора ещё нет служебного ящика: проверка — это письмо в один из них, поэтому сначала добавьте ящик'],
  [/^the list has (\d+) rows; import at most (\d+) at a time$/, (m) => `в списке строк: ${m[1] ?? ''}; за один раз можно импортировать не более ${m[2] ?? ''}`],
  [/^the list is not readable CSV: a quote is not closed(?: \(line (\d+)\))?/, (m) => `список не читается как CSV: кавычка не закрыта${m[1] !== undefined ? ` (строка ${m[1]})` : ''}: поставьте закрывающую " после значения или уберите открывающую`],
  [/^the list is not readable CSV: a quote stands inside a value(?: \(line (\d+)\))?/, (m) => `список не читается как CSV: кавычка внутри значения${m[1] !== undefined ? ` (строка ${m[1]})` : ''}: заключите всё значение в кавычки («"Петрова, Ольга"») или уберите кавычку`],
  [/^the list is not readable CSV/, () => 'список не читается как CSV: проверьте кавычки и разделители (в каждой строке имя и адрес через запятую или точку с запятой)'],
  [/^(\w+) must be a date \(YYYY-MM-DD\)$/, (m) => `${m[1] ?? ''}: нужна дата (ГГГГ-ММ-ДД)`],
  [/^(\w+) must be one of (.*)$/, (m) => `${m[1] ?? ''}: должно быть одним из: ${m[2] ?? ''}`],
  [/^(\w+) is not an id$/, (m) => `${m[1] ?? ''}: не идентификатор`],
  [/^(parameters|functions), line (\d+): write a parameter as "name: type" or "name: type, required" \(types: (.*)\), then optionally " — description"$/, (m) => `${m[1] === 'functions' ? 'функции' : 'входные данные'}, строка ${m[2] ?? ''}: пишите параметр как «имя: тип» или «имя: тип, required» (типы: ${m[3] ?? ''}), затем при желании « — описание»`],
  [/^(parameters|functions), line (\d+): "(.*)" is not a (?:valid name|function name)/, (m) => `${m[1] === 'functions' ? 'функции' : 'входные данные'}, строка ${m[2] ?? ''}: «${m[3] ?? ''}» — недопустимое имя (только буквы, цифры, _ и .)`],
  [/^(parameters|functions), line (\d+): "(.*)" is not a type: use (.*)$/, (m) => `${m[1] === 'functions' ? 'функции' : 'входные данные'}, строка ${m[2] ?? ''}: «${m[3] ?? ''}» — не тип: используйте ${m[4] ?? ''}`],
  [/^(parameters|functions), line (\d+): an indented line is a parameter of the function above it, and there is none$/, (m) => `функции, строка ${m[2] ?? ''}: строка с отступом — параметр функции выше, а функции выше нет`]
]

function firstMatch (rules: Rule[], text: string): string | null {
  for (const [pattern, say] of rules) {
    const m = pattern.exec(text)
    if (m !== null) return say(m)
  }
  return null
}

/** One field's refusal, labelled as the form labels it. */
export function fieldErrorText (field: string, message: string, locale: Locale): string {
  return `${fieldName(field, locale)}: ${firstMatch(FIELD_RULES[locale], message) ?? message}`
}

/** A refusal as the console shows it: each field's line, or the whole message, in `locale`. */
export function refusalText (error: { message: string, details?: Array<{ field: string, message: string }> }, locale: Locale): string {
  if (error.details !== undefined && error.details.length > 0) return error.details.map((d) => fieldErrorText(d.field, d.message, locale)).join('; ')
  const message = error.message.replace(/^Invalid body: /, '')
  return locale === 'ru' ? firstMatch(MESSAGE_RULES, message) ?? message : message
}

/** Sentences the console shows that were written where they happened (sender verdicts, mailbox warnings, reply errors). */
const NOTICE_RULES: Rule[] = [
  [/^sender authentication is off for this mailbox: the allow-list alone decides$/, () => 'проверка отправителя для этого ящика выключена: решает только список разрешённых отправителей'],
  [/^(.+) \(DMARC (\w+)\)$/, (m) => `${m[1] ?? ''} (DMARC ${m[2] ?? ''})`],
  [/^could not verify that the message is from (\S+): (.*)$/, (m) => `не удалось подтвердить, что письмо от ${m[1] ?? ''}: ${m[2] ?? ''}`],
  [/^(\S+) says (SPF|DKIM|DMARC) pass(.*)$/, (m) => `${m[1] ?? ''}: ${m[2] ?? ''} пройдена${m[3] ?? ''}`],
  [/^no Authentication-Results header from (\S+)$/, (m) => `нет заголовка Authentication-Results от ${m[1] ?? ''}`],
  [/^(\S+) reports no DMARC or aligned DKIM pass for (\S+)$/, (m) => `${m[1] ?? ''}: для ${m[2] ?? ''} нет пройденной DMARC или согласованной DKIM`],
  [/^senderAuth is off: anyone who forges the From address of an allowed sender can launch robots\. Use dmarc or provider\.$/, () => 'проверка отправителя выключена (senderAuth off): любой, кто подделает адрес From разрешённого отправителя, сможет запускать роботов. Используйте dmarc или provider.'],
  [/^senderAuth is provider but trustedAuthservId is not set: mail found by the IMAP sweep cannot be authenticated and will be rejected\.$/, () => 'senderAuth — provider, но trustedAuthservId не задан: письма, найденные проверкой IMAP, нельзя проверить, и они будут отклонены.'],
  [/^senderAuth is provider: mailrun trusts the topmost Authentication-Results header from (\S+)\./, (m) => `senderAuth — provider: mailrun доверяет верхнему заголовку Authentication-Results от ${m[1] ?? ''}. Если этот сервер не удаляет входящие заголовки Authentication-Results со своим именем (RFC 8601, раздел 5), отправитель может подделать «dmarc=pass». См. «Trusting your MTA» в docs/providers.md или используйте dmarc.`],
  [/^graph: Microsoft Graph posts notifications only to https URLs, and MAILRUN_PUBLIC_URL is (\S+): /, (m) => `graph: Microsoft Graph отправляет уведомления только на адреса https, а MAILRUN_PUBLIC_URL — ${m[1] ?? ''}: пока это не адрес https, доступный Graph, новые письма находит только периодический проход (каждые MAILRUN_SWEEP_INTERVAL_S).`],
  [/^no SMTP server for replies: set smtp on the mailbox or MAILRUN_SMTP_URL$/, () => 'нет SMTP-сервера для ответов: задайте smtp у ящика или MAILRUN_SMTP_URL'],
  [/^gave up: (.*)$/, (m) => `попытки прекращены: ${m[1] ?? ''}`],
  [/^could not reach (\S+): (.*)$/, (m) => `не удалось связаться с ${m[1] ?? ''}: ${m[2] ?? ''}`],
  [/^signed in to (\S+) as app (\S+)$/, (m) => `вход в ${m[1] ?? ''} выполнен как приложение ${m[2] ?? ''}`],
  [/^the environment lists its desktop flows to this app$/, () => 'среда показывает этому приложению свои классические потоки'],
  [/^signed in to (\S+) as (.+)$/, (m) => `вход в ${m[1] ?? ''} выполнен от имени ${m[2] ?? ''}`],
  [/^the public workspace lists its bots to this user$/, () => 'общий репозиторий показывает этому пользователю своих ботов'],
  [/^(\S+) may be reached$/, (m) => `к ${m[1] ?? ''} можно подключаться`],
  [/^the target answered (\d+) to a GET \(no run was started\)$/, (m) => `цель ответила ${m[1] ?? ''} на GET (запуск не начат)`],
  [/^could not reach the HTTP target at (\S+): (.*)$/, (m) => `HTTP-цель (${m[1] ?? ''}) недоступна: ${m[2] ?? ''}`],
  [/^Invalid body: url may not point there: (.*)$/, (m) => `адрес указывает туда, куда mailrun подключаться нельзя: ${m[1] ?? ''}`],
  [/^the tenant has no mailbox to send alerts from: add one$/, () => 'у арендатора нет ящика, из которого отправлять оповещения: добавьте ящик'],
  [/^nobody to send to: /, () => 'некому отправить: у канала нет адресов, а у арендатора нет администраторов'],
  [/^queued for (\d+) recipients?$/, (m) => `поставлено в очередь отправки, получателей: ${m[1] ?? ''}`],
  [/^the channel is missing its address or secret: edit it and save it again$/, () => 'у канала нет адреса или секрета: измените его и сохраните заново'],
  [/^not replied: (.*)$/, (m) => `ответ не отправлен: ${m[1] ?? ''}`],
  [/^not sent: content removed \((\w+)\)$/, (m) => `не отправлен: содержимое удалено (${m[1] === 'erasure' ? 'стирание' : 'срок хранения'})`]
]

/** A sentence written where it happened, in the user's language when a rule knows it. */
export function noticeText (text: string, locale: Locale): string {
  // Else a failure as a reply words it (a platform's refusal, an unreachable host), or as it came.
  return locale === 'ru' ? firstMatch(NOTICE_RULES, text) ?? consoleText(text, locale) : text
}
