import { randomBytes } from 'node:crypto'

// Replies shaped as each mail client writes them: where the new text goes, how the earlier mail is
// introduced (attribution line, Outlook's header block, a "-----Original Message-----" marker) and
// quoted (">" lines, a blockquote, nothing at all), which signature a phone adds, and whether the
// message is text, HTML with a text alternative, or HTML alone inside multipart/related with a logo
// (Apple Mail and phones). Built from the clients' documented and observed shapes; no one's mail.

export interface ClientStyle {
  name: string
  /** The attribution or header block above the quote, as text lines. */
  header: string[]
  /** Quote the earlier mail with ">" (else it follows the header block unmarked, as Outlook does). */
  marks: boolean
  /** A signature the client adds below the new text. */
  signature: string[]
  /** How the HTML form quotes: a blockquote, Gmail's div, Outlook on the web's divRplyFwdMsg, Outlook desktop's bordered div. */
  html: 'blockquote' | 'gmail' | 'owa' | 'outlook' | 'thunderbird' | 'yandex'
  /** HTML only, inside multipart/related with an inline logo, no text part (Apple Mail, phones). */
  htmlOnly: boolean
}

const SERVICE = 'mailrun <robots@acme.example>'

export const clientStyles: ClientStyle[] = [
  { name: 'Outlook (desktop, English)', header: ['-----Original Message-----', `From: ${SERVICE}`, 'Sent: Sunday, December 6, 2026 5:40 PM', 'To: Anna Petrova <anna@sender.example>', 'Subject: Re: Monthly Report'], marks: false, signature: [], html: 'outlook', htmlOnly: false },
  { name: 'Outlook (desktop, Russian)', header: [`От: ${SERVICE}`, 'Отправлено: 6 декабря 2026 г. 17:40', 'Кому: Анна Петрова <anna@sender.example>', 'Тема: Re: Monthly Report'], marks: false, signature: ['С уважением,', 'Анна Петрова', 'Финансовый отдел, ООО «Акме»', '+7 (495) 123-45-67'], html: 'outlook', htmlOnly: false },
  { name: 'new Outlook / Outlook on the web (English)', header: ['________________________________', `From: ${SERVICE}`, 'Sent: Sunday, December 6, 2026 17:40', 'To: Anna Petrova <anna@sender.example>', 'Subject: Re: Monthly Report'], marks: false, signature: ['Best regards,', 'Anna Petrova', 'Finance, Acme Corp'], html: 'owa', htmlOnly: false },
  { name: 'Outlook on the web (Russian)', header: ['________________________________', `От: ${SERVICE}`, 'Отправлено: 6 декабря 2026 г. 17:40', 'Кому: Анна Петрова <anna@sender.example>', 'Тема: Re: Monthly Report'], marks: false, signature: [], html: 'owa', htmlOnly: false },
  { name: 'Gmail (English)', header: ['On Sun, Dec 6, 2026 at 5:40 PM mailrun <robots@acme.example> wrote:'], marks: true, signature: [], html: 'gmail', htmlOnly: false },
  { name: 'Gmail (Russian)', header: ['вс, 6 дек. 2026 г. в 17:40, mailrun <robots@acme.example>:'], marks: true, signature: [], html: 'gmail', htmlOnly: false },
  { name: 'Apple Mail', header: ['On 6 Dec 2026, at 17:40, mailrun <robots@acme.example> wrote:'], marks: true, signature: ['Anna Petrova', 'Acme Corp'], html: 'blockquote', htmlOnly: true },
  { name: 'iPhone', header: ['On 6 Dec 2026, at 17:40, mailrun <robots@acme.example> wrote:'], marks: true, signature: ['Sent from my iPhone'], html: 'blockquote', htmlOnly: true },
  { name: 'iPhone (Russian)', header: ['6 дек. 2026 г., в 17:40, mailrun <robots@acme.example> написал(а):'], marks: true, signature: ['Отправлено с iPhone'], html: 'blockquote', htmlOnly: true },
  { name: 'Thunderbird', header: ['On 06.12.2026 17:40, mailrun wrote:'], marks: true, signature: [], html: 'thunderbird', htmlOnly: false },
  { name: 'Thunderbird (Russian)', header: ['06.12.2026 17:40, mailrun пишет:'], marks: true, signature: [], html: 'thunderbird', htmlOnly: false },
  { name: 'Yandex Mail', header: ['06.12.2026, 17:40, "mailrun" <robots@acme.example>:'], marks: true, signature: ['--', 'Отправлено из мобильной Яндекс Почты'], html: 'yandex', htmlOnly: false },
  { name: 'Mail.ru', header: ['Воскресенье, 6 декабря 2026, 17:40 +03:00 от mailrun <robots@acme.example>:'], marks: true, signature: ['--', 'Отправлено из Почты Mail.ru'], html: 'blockquote', htmlOnly: false },
  { name: 'Outlook for Android', header: ['________________________________', `From: ${SERVICE}`, 'Sent: Sunday, December 6, 2026 5:40:12 PM', 'To: Anna Petrova <anna@sender.example>', 'Subject: Re: Monthly Report'], marks: false, signature: ['Get Outlook for Android'], html: 'owa', htmlOnly: false }
]

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const paragraphs = (lines: string[]): string => lines.map((l) => l === '' ? '<div><br></div>' : `<div>${escape(l)}</div>`).join('\n')

function htmlBody (style: ClientStyle, fresh: string[], quoted: string[]): string {
  const own = paragraphs([...fresh, ...(style.signature.length > 0 ? ['', ...style.signature] : [])])
  const header = style.header.map(escape).join('<br>\n')
  const earlier = paragraphs(quoted)
  switch (style.html) {
    case 'gmail':
      return `<div dir="ltr">${own}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">${header}<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">${earlier}</blockquote></div>`
    case 'owa':
      return `<div style="font-family: Aptos, sans-serif; font-size: 12pt">${own}</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt">${header.replace(/^(From|От)/, '<b>$1</b>')}</font><div>&nbsp;</div></div><div>${earlier}</div>`
    case 'outlook':
      return `<div class="WordSection1">${own.replace(/<div>/g, '<p class="MsoNormal">').replace(/<\/div>/g, '</p>')}<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal">${style.header.filter((l) => !l.startsWith('-----')).map((l) => l.replace(/^([^:]+):(.*)$/, (_, k: string, v: string) => `<b>${escape(k)}:</b>${escape(v)}`)).join('<br>\n')}</p></div></div><p class="MsoNormal">&nbsp;</p>${earlier.replace(/<div>/g, '<p class="MsoNormal">').replace(/<\/div>/g, '</p>')}</div>`
    case 'thunderbird':
      return `<p>${fresh.map(escape).join('<br>\n')}</p>\n<div class="moz-cite-prefix">${header}<br></div>\n<blockquote type="cite" cite="mid:x@acme.example">${earlier}</blockquote>`
    case 'yandex':
      return `<div>${own}</div><div> </div><div>${header}</div><blockquote>${earlier}</blockquote>`
    case 'blockquote':
      return `<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">${own}<div dir="ltr"><br><blockquote type="cite">${header}<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">${earlier}</div></blockquote><img src="cid:logo@acme.example" alt="Acme"></body></html>`
  }
}

function textBody (style: ClientStyle, fresh: string[], quoted: string[]): string {
  const quote = style.marks ? quoted.map((l) => l === '' ? '>' : `> ${l}`) : quoted
  return [...fresh, ...(style.signature.length > 0 ? ['', ...style.signature] : []), '', ...style.header, ...(style.marks ? [] : ['']), ...quote].join('\r\n')
}

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

export interface ReplySpec {
  style: ClientStyle
  form: 'text' | 'html'
  fresh: string[]
  quoted: string[]
  subject?: string
  inReplyTo?: string
  messageId?: string
}

/** The reply as raw MIME, from Anna to the service mailbox. */
export function buildReply (spec: ReplySpec): string {
  const boundary = (tag: string): string => `----=_${tag}_${randomBytes(6).toString('hex')}`
  const headers = [
    'From: Anna Petrova <anna@sender.example>',
    'To: robots@acme.example',
    `Subject: ${spec.subject ?? 'Re: Monthly Report'}`,
    `Message-ID: ${spec.messageId ?? `<${randomBytes(8).toString('hex')}@sender.example>`}`,
    'Date: Sun, 06 Dec 2026 17:45:00 +0300',
    ...(spec.inReplyTo !== undefined ? [`In-Reply-To: ${spec.inReplyTo}`, `References: ${spec.inReplyTo}`] : []),
    'MIME-Version: 1.0'
  ]
  const b64 = (text: string): string => (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
  const text = textBody(spec.style, spec.fresh, spec.quoted)
  if (spec.form === 'text') return [...headers, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(text), ''].join('\r\n')
  const html = htmlBody(spec.style, spec.fresh, spec.quoted)
  const htmlPart = ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(html)]
  if (spec.style.htmlOnly) {
    const related = boundary('rel')
    return [...headers, `Content-Type: multipart/related; boundary="${related}"; type="text/html"`, '', `--${related}`, ...htmlPart, `--${related}`,
      'Content-Type: image/png; name="logo.png"', 'Content-Transfer-Encoding: base64', 'Content-ID: <logo@acme.example>', 'Content-Disposition: inline; filename="logo.png"', '', PNG, `--${related}--`, ''].join('\r\n')
  }
  const alternative = boundary('alt')
  return [...headers, `Content-Type: multipart/alternative; boundary="${alternative}"`, '', `--${alternative}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(text),
    `--${alternative}`, ...htmlPart, `--${alternative}--`, ''].join('\r\n')
}
