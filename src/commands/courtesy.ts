// What people write around a command that is not part of it: a greeting above it, a sign-off and a
// phone's "Sent from" line below it, a "please" beside a verb. English and Russian, as business
// users write from Outlook and phones. Each pattern matches a whole line (trimmed), so a command
// line is never taken for one of these by a word it happens to contain.

// \b knows only ASCII letters: a Russian word ends at white space, punctuation or the line's end.
const END = '(?=$|[\\s,.!;:])'

const GREETING = new RegExp(
  '^(?:hi|hello|hey|dear|good\\s+(?:morning|afternoon|evening|day)|greetings|hallo|' +
  'привет|приветствую|здравствуй(?:те)?|добрый\\s+(?:день|вечер)|доброе\\s+утро|доброго\\s+(?:дня|времени\\s+суток)|' +
  'уважаем(?:ый|ая|ые)|коллеги|добрый|салют)' + END + '[^=:"]{0,60}$', 'iu')

const SIGN_OFFS: RegExp[] = [
  // English closings, alone on their line ("Best regards,", "Thanks!", "Cheers").
  /^(?:(?:best|kind|warm|warmest|many)\s+)?(?:regards|thanks|thank\s+you|wishes)(?:\s+(?:again|so\s+much|in\s+advance))?[\s,.!]*$/iu,
  /^(?:thx|cheers|sincerely|yours(?:\s+(?:truly|sincerely|faithfully))?|br|best|all\s+the\s+best|have\s+a\s+(?:nice|good|great)\s+day)[\s,.!]*$/iu,
  // Phones and mail apps: "Sent from my iPhone", "Sent from Mail for Windows", "Get Outlook for Android".
  /^sent\s+(?:from|via|with)\s+\S.*$/iu,
  /^get\s+outlook\s+for\s+\S.*$/iu,
  // Russian closings ("С уважением,", "Спасибо!", "Заранее спасибо").
  /^с\s+(?:уважением|наилучшими\s+пожеланиями|благодарностью|уваж\.?)[\s,.!]*$/iu,
  /^(?:(?:большое|заранее|огромное)\s+)?спасибо(?:\s+(?:большое|заранее|огромное))?[\s,.!)]*$/iu,
  /^(?:благодарю|всего\s+(?:доброго|хорошего)|хорошего\s+дня|удачи)[\s,.!]*$/iu,
  // Phones and mail apps in Russian: "Отправлено с iPhone", "Отправлено из мобильной Почты Mail.ru".
  /^отправлено\s+(?:с|со|из|через)\s+\S.*$/iu,
  /^(?:скачайте|скачать|загрузите|получите)\s+outlook\s+для\s+\S.*$/iu
]

/** A line that greets ("Hi,", "Hello Anna,", "Добрый день!", "Здравствуйте, коллеги"). */
export function isGreeting (line: string): boolean {
  return GREETING.test(line.trim())
}

/** A line that closes a message or names the program that sent it. */
export function isSignOff (line: string): boolean {
  const trimmed = line.trim()
  return trimmed.length <= 80 && SIGN_OFFS.some((pattern) => pattern.test(trimmed))
}

const POLITE = new Set(['please', 'pls', 'plz', 'kindly', 'thanks', 'thank', 'you', 'thx', 'пожалуйста', 'плиз', 'пжл', 'пж', 'спасибо', 'будьте', 'добры'])

/** A verb line's words, lower-cased, without punctuation and without "please" and its kin. */
export function plainWords (line: string): string[] {
  return line.toLocaleLowerCase('und').replace(/[,.!?;:()«»"']+/gu, ' ').split(/\s+/u).filter((w) => w !== '' && !POLITE.has(w))
}
