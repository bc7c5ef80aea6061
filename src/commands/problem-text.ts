import type { ParameterDeclaration, Problem } from '../db/schema.js'

// Every problem a sender can be told about, in each language mailrun answers in. A problem is
// stored as its kind and its values (`kind`, `params`); the reply renders it in the tenant's
// language, and `message` keeps the English words for the API and the logs.

export type Locale = 'en' | 'ru'
type ParameterType = ParameterDeclaration['type']

/** A declared parameter as problems show it. */
export interface Declared { name: string, type: ParameterType, required: boolean }

/** Why a value is not of its declared type. */
export type ValueFault =
  | { fault: 'not_number', raw: string }
  | { fault: 'not_boolean', raw: string }
  | { fault: 'not_date', raw: string }
  | { fault: 'date_for', expected: 'number' | 'boolean' }
  | { fault: 'number_for_date', raw: string }
  | { fault: 'boolean_for', expected: 'number' | 'date' }

/** What the problem is about: the robot's inputs, or one function's. */
export interface Owner { owner: 'robot' | 'function', name: string }

const typeWords: Record<Locale, Record<ParameterType, string>> = {
  en: { string: 'text', number: 'a number', boolean: 'yes or no', date: 'a date' },
  ru: { string: 'текст', number: 'число', boolean: 'да или нет', date: 'дата' }
}
const requiredWord: Record<Locale, string> = { en: 'required', ru: 'обязательно' }

export function typeWord (type: ParameterType, locale: Locale): string {
  return typeWords[locale][type]
}

/** `name (a number, required), other (text)`, in the locale's words. */
export function describeParameters (declared: Declared[], locale: Locale): string {
  return declared.map((p) => `${p.name} (${typeWords[locale][p.type]}${p.required ? `, ${requiredWord[locale]}` : ''})`).join(', ')
}

const plural = (n: number, one: string, many: string): string => n === 1 ? one : many
/** Russian nouns after a number: 1 строка, 2 строки, 5 строк. */
export const ruPlural = (n: number, one: string, few: string, many: string): string => {
  const tens = n % 100
  const units = n % 10
  if (tens >= 11 && tens <= 14) return many
  return units === 1 ? one : units >= 2 && units <= 4 ? few : many
}

const enOwner = (o: Owner): string => o.owner === 'robot' ? `The robot "${o.name}"` : `The function ${o.name}`
const ruOwner = (o: Owner): string => o.owner === 'robot' ? `У робота «${o.name}»` : `У функции ${o.name}`
const ruOwnerNeeds = (o: Owner): string => o.owner === 'robot' ? `Роботу «${o.name}»` : `Функции ${o.name}`

const enFault = (f: ValueFault): string => {
  switch (f.fault) {
    case 'not_number': return `"${f.raw}" is not a number (write it like 42, 3.5 or 1 234,56)`
    case 'not_boolean': return `"${f.raw}" is not yes or no (write yes, no, true or false)`
    case 'not_date': return `"${f.raw}" is not a date (write it like 2024-05-31 or 31.05.2024)`
    case 'date_for': return `a date where ${typeWords.en[f.expected]} is expected`
    case 'number_for_date': return `${f.raw} is not a date; format the column as a date, or write it like 2024-05-31`
    case 'boolean_for': return `yes or no where ${typeWords.en[f.expected]} is expected`
  }
}
const ruFault = (f: ValueFault): string => {
  switch (f.fault) {
    case 'not_number': return `«${f.raw}» — не число (пишите так: 42, 3,5 или 1 234,56)`
    case 'not_boolean': return `«${f.raw}» — не «да» и не «нет» (пишите да, нет, yes или no)`
    case 'not_date': return `«${f.raw}» — не дата (пишите так: 31.05.2024 или 2024-05-31)`
    case 'date_for': return `дата там, где ожидается ${f.expected === 'number' ? 'число' : '«да» или «нет»'}`
    case 'number_for_date': return `${f.raw} — не дата; задайте столбцу формат даты или пишите так: 31.05.2024`
    case 'boolean_for': return `«да» или «нет» там, где ожидается ${f.expected === 'number' ? 'число' : 'дата'}`
  }
}

const en = {
  // The grammar of a line.
  quote_not_closed: () => 'a quoted value is not closed: add the missing " at its end',
  after_quoted: (p: { name: string, inCall: boolean }) => `after the quoted value of "${p.name}" only ${p.inCall ? 'a comma and the next input' : 'the end of the line'} may follow`,
  stray_quote: (p: { name: string }) => `the value of "${p.name}" has a stray ": put the whole value in quotes, with \\" for a quote inside`,
  no_value: (p: { name: string }) => `"${p.name}" has no value: write ${p.name} = value (use "" for an empty text)`,
  name_missing: (p: { what: 'input' | 'function' }) => `a ${p.what} name is missing`,
  bad_name: (p: { name: string, what: 'input' | 'function' }) => `"${p.name}" is not a valid ${p.what} name: names are letters, digits, _ and . without spaces`,
  starts_with_value: () => 'a line starts with a value: write name = "value", or a function name first',
  needs_value: (p: { piece: string, fn: string, word: string }) => `"${p.piece}" needs a value: write ${p.fn}: ${p.word} = value`,
  given_twice_in_call: (p: { name: string, fn: string }) => `"${p.name}" is given twice for ${p.fn}`,
  comma_at_end: () => 'the line ends with a comma: remove it or add the next input',
  given_twice: (p: { name: string, line: number }) => `the input "${p.name}" is given twice (also on line ${p.line})`,
  // The command against the robot.
  no_such_input: (p: Owner & { input: string, takes: Declared[] }) => `${enOwner(p)} has no input "${p.input}"; it takes: ${describeParameters(p.takes, 'en')}`,
  bad_value: (p: { input: string, why: ValueFault }) => `${p.input}: ${enFault(p.why)}`,
  needs_input: (p: Owner & { input: string, type: ParameterType }) => `${enOwner(p)} needs the input "${p.input}" (${typeWords.en[p.type]}): add ${p.input} = …`,
  no_such_function: (p: { fn: string, robot: string, has: string[] }) => `"${p.fn}" is not a function of ${p.robot}; it has: ${p.has.join(', ')}`,
  subject_empty: () => 'the subject is empty: write the name of the robot to run',
  no_such_robot: (p: { robot: string }) => `there is no robot called "${p.robot}"`,
  // Attachments.
  too_many_files: (p: { count: number, max: number }) => `the email has ${p.count} attachments; send at most ${p.max} per email`,
  program_file: () => 'programs and macro documents are not accepted: send the data itself (a PDF, a picture, a spreadsheet without macros)',
  archive_file: () => 'archives are not accepted: attach the files themselves',
  file_type: (p: { types: string[] }) => `this robot accepts only ${p.types.map((t) => `.${t}`).join(', ')} files`,
  file_too_large: (p: { size: string, max: string }) => `the file is ${p.size}; this robot accepts files up to ${p.max}`,
  attachment_too_large: (p: { name: string, maxBytes: number }) => `the attachment ${p.name} is larger than ${p.maxBytes} bytes`,
  // Spreadsheets.
  several_sheets: (p: { count: number, names: string[] }) => `the email has ${p.count} spreadsheets (${p.names.join(', ')}); send one per email`,
  sheet_not_read_back: (p: { name: string }) => `the attachment ${p.name} could not be read back`,
  csv_unreadable: (p: { line: number | null, detail: string }) => `the CSV file cannot be read${p.line !== null ? ` near line ${p.line}` : ''}: ${p.detail}`,
  xlsx_unreadable: (p: { detail: string }) => `the file is not a readable XLSX workbook (${p.detail}); save it again from Excel, or send it as CSV`,
  csv_empty: () => 'the CSV file is empty: its first row must name the fields',
  old_excel: (p: { name: string }) => `"${p.name}" is an Excel 97–2003 workbook (.xls), which mailrun does not read: save it as .xlsx or .csv and send it again`,
  not_spreadsheet: (p: { name: string }) => `"${p.name}" is not a spreadsheet: send a .csv, .txt (tab-separated) or .xlsx file`,
  workbook_too_large: (p: { mb: number, maxMb: number, counted?: boolean }) => `the workbook unpacks to ${p.counted === true ? 'more than' : `${p.mb} MB,`} ${p.counted === true ? '' : 'more than '}the ${p.maxMb} MB mailrun reads; send fewer rows per email, or a CSV file`,
  workbook_unreadable: (p: { detail: string }) => `the workbook cannot be read (${p.detail}); save it again from Excel, or send it as CSV`,
  workbook_empty: () => 'the first sheet of the workbook is empty: its first row must name the fields',
  too_many_rows: (p: { max: number }) => `the spreadsheet has more than ${p.max} rows; split it into several emails of at most ${p.max} rows each`,
  column_without_name: (p: { column: number }) => `row 1, column ${p.column} has values but no name: write the field's name in the first row`,
  column_twice: (p: { title: string, first: number, second: number }) => `row 1: the column "${p.title}" appears twice (columns ${p.first} and ${p.second})`,
  column_and_body: (p: { title: string }) => `row 1: "${p.title}" is both a column and written in the email; give it in one place`,
  no_such_column: (p: { title: string, takes: Declared[] }) => `row 1: the robot has no input "${p.title}"; its columns can be: ${describeParameters(p.takes, 'en')}`,
  missing_column: (p: { column: Declared }) => `row 1: the required column "${p.column.name}" is missing (${describeParameters([p.column], 'en')})`,
  beyond_last_column: (p: { row: number, column: number, value: string }) => `row ${p.row}, column ${p.column}: a value beyond the last named column ("${p.value}")`,
  bad_cell: (p: { row: number, column: string, why: ValueFault }) => `row ${p.row}, column "${p.column}": ${enFault(p.why)}`,
  empty_required_cell: (p: { row: number, column: string }) => `row ${p.row}, column "${p.column}" is empty; it is required`,
  no_rows: () => 'the spreadsheet has a header row but no rows below it: add one row per queue item',
  row_refused: (p: { row: number | null, code: string }) => `${p.row !== null ? `row ${p.row}` : 'a row'}: ${p.code}`,
  ignored_columns: (p: { columns: string[] }) => `columns the robot does not take were left out: ${p.columns.join(', ')}`,
  more_problems: (p: { count: number }) => `… and ${p.count} more problem${plural(p.count, '', 's')}`
}

type Catalogue = { [K in keyof typeof en]: (p: Parameters<typeof en[K]>[0]) => string }

const ru: Catalogue = {
  quote_not_closed: () => 'значение в кавычках не закрыто: добавьте " в его конце',
  after_quoted: (p) => `после значения «${p.name}» в кавычках может стоять только ${p.inCall ? 'запятая и следующий параметр' : 'конец строки'}`,
  stray_quote: (p) => `в значении «${p.name}» лишняя кавычка ": возьмите всё значение в кавычки, а кавычку внутри пишите как \\"`,
  no_value: (p) => `у «${p.name}» нет значения: напишите ${p.name} = значение (для пустого текста — "")`,
  name_missing: (p) => `не указано имя ${p.what === 'input' ? 'параметра' : 'функции'}`,
  bad_name: (p) => `«${p.name}» не подходит как имя ${p.what === 'input' ? 'параметра' : 'функции'}: имена состоят из букв, цифр, _ и . без пробелов`,
  starts_with_value: () => 'строка начинается со значения: напишите имя = "значение" или сначала имя функции',
  needs_value: (p) => `у «${p.piece}» нет значения: напишите ${p.fn}: ${p.word} = значение`,
  given_twice_in_call: (p) => `«${p.name}» указан для ${p.fn} дважды`,
  comma_at_end: () => 'строка заканчивается запятой: уберите её или допишите следующий параметр',
  given_twice: (p) => `параметр «${p.name}» указан дважды (ещё в строке ${p.line})`,
  no_such_input: (p) => `${ruOwner(p)} нет параметра «${p.input}»; есть такие: ${describeParameters(p.takes, 'ru')}`,
  bad_value: (p) => `${p.input}: ${ruFault(p.why)}`,
  needs_input: (p) => `${ruOwnerNeeds(p)} нужен параметр «${p.input}» (${typeWords.ru[p.type]}): добавьте ${p.input} = …`,
  no_such_function: (p) => `у робота ${p.robot} нет функции «${p.fn}»; есть такие: ${p.has.join(', ')}`,
  subject_empty: () => 'тема письма пуста: напишите в ней имя робота, которого нужно запустить',
  no_such_robot: (p) => `робота «${p.robot}» нет`,
  too_many_files: (p) => `в письме ${p.count} ${ruPlural(p.count, 'вложение', 'вложения', 'вложений')}; присылайте не больше ${p.max} в одном письме`,
  program_file: () => 'программы и документы с макросами не принимаются: пришлите сами данные (PDF, изображение, таблицу без макросов)',
  archive_file: () => 'архивы не принимаются: вложите сами файлы',
  file_type: (p) => `этот робот принимает только файлы ${p.types.map((t) => `.${t}`).join(', ')}`,
  file_too_large: (p) => `размер файла ${p.size}; этот робот принимает файлы не больше ${p.max}`,
  attachment_too_large: (p) => `вложение ${p.name} больше ${p.maxBytes} байт`,
  several_sheets: (p) => `в письме ${p.count} ${ruPlural(p.count, 'таблица', 'таблицы', 'таблиц')} (${p.names.join(', ')}); присылайте по одной в письме`,
  sheet_not_read_back: (p) => `вложение ${p.name} не удалось прочитать повторно`,
  csv_unreadable: (p) => `файл CSV не читается${p.line !== null ? ` около строки ${p.line}` : ''}: ${p.detail}`,
  xlsx_unreadable: (p) => `файл не читается как книга XLSX (${p.detail}); сохраните его в Excel заново или пришлите как CSV`,
  csv_empty: () => 'файл CSV пуст: в его первой строке должны быть названия полей',
  old_excel: (p) => `«${p.name}» — книга Excel 97–2003 (.xls), такие mailrun не читает: сохраните её как .xlsx или .csv и пришлите снова`,
  not_spreadsheet: (p) => `«${p.name}» — не таблица: пришлите файл .csv, .txt (с табуляцией) или .xlsx`,
  workbook_too_large: (p) => p.counted === true
    ? `в распакованном виде книга больше ${p.maxMb} МБ — столько mailrun не читает; присылайте меньше строк в письме или файл CSV`
    : `в распакованном виде книга занимает ${p.mb} МБ, а mailrun читает не больше ${p.maxMb} МБ; присылайте меньше строк в письме или файл CSV`,
  workbook_unreadable: (p) => `книга не читается (${p.detail}); сохраните её в Excel заново или пришлите как CSV`,
  workbook_empty: () => 'первый лист книги пуст: в его первой строке должны быть названия полей',
  too_many_rows: (p) => `в таблице больше ${p.max} строк; разделите её на несколько писем, не больше ${p.max} строк в каждом`,
  column_without_name: (p) => `строка 1, столбец ${p.column}: есть значения, но нет названия — напишите название поля в первой строке`,
  column_twice: (p) => `строка 1: столбец «${p.title}» встречается дважды (столбцы ${p.first} и ${p.second})`,
  column_and_body: (p) => `строка 1: «${p.title}» указан и столбцом, и в тексте письма; оставьте что-то одно`,
  no_such_column: (p) => `строка 1: у робота нет параметра «${p.title}»; столбцы могут быть такими: ${describeParameters(p.takes, 'ru')}`,
  missing_column: (p) => `строка 1: нет обязательного столбца «${p.column.name}» (${describeParameters([p.column], 'ru')})`,
  beyond_last_column: (p) => `строка ${p.row}, столбец ${p.column}: значение правее последнего названного столбца («${p.value}»)`,
  bad_cell: (p) => `строка ${p.row}, столбец «${p.column}»: ${ruFault(p.why)}`,
  empty_required_cell: (p) => `строка ${p.row}, столбец «${p.column}» пуст, а он обязателен`,
  no_rows: () => 'в таблице есть строка заголовков, но нет строк под ней: добавьте по строке на каждый элемент очереди',
  row_refused: (p) => `${p.row !== null ? `строка ${p.row}` : 'строка'}: ${p.code}`,
  ignored_columns: (p) => `столбцы, которых робот не принимает, пропущены: ${p.columns.join(', ')}`,
  more_problems: (p) => `… и ещё ${p.count} ${ruPlural(p.count, 'ошибка', 'ошибки', 'ошибок')}`
}

export type ProblemKind = keyof typeof en
export type ProblemParams<K extends ProblemKind> = Parameters<typeof en[K]>[0]

const catalogues: Record<Locale, Catalogue> = { en, ru }

/** Every kind of problem, for the tests that render them all. */
export const problemKinds = Object.keys(en) as ProblemKind[]

function render<K extends ProblemKind> (locale: Locale, kind: K, params: ProblemParams<K>): string {
  return (catalogues[locale][kind] as (p: ProblemParams<K>) => string)(params)
}

/** A problem of this kind, with its English words in `message`. */
export function problem<K extends ProblemKind> (kind: K, ...[params, where]: ProblemParams<K> extends undefined ? [undefined?, { line?: number, text?: string }?] : [ProblemParams<K>, { line?: number, text?: string }?]): Problem {
  return {
    ...(where?.line !== undefined ? { line: where.line } : {}),
    ...(where?.text !== undefined ? { text: where.text } : {}),
    kind,
    ...(params !== undefined ? { params: params as Record<string, unknown> } : {}),
    message: render('en', kind, params as ProblemParams<K>)
  }
}

/** The problem's words in this language (a problem stored before kinds existed keeps its English). */
export function problemText (p: Problem, locale: Locale): string {
  if (p.kind === undefined || !(p.kind in en)) return p.message
  return render(locale, p.kind as ProblemKind, (p.params ?? undefined) as never)
}
