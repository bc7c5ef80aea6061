import { convert } from 'html-to-text'
import { libraryMarks } from './reply-parser.js'

// The one place that turns a message into the text its sender wrote in it: the text part, or the
// HTML part's rendering when there is no text (Apple Mail and phones with a signature logo send
// HTML inside multipart/related, with no text at all), cut where the quoted earlier mail begins.
// Commands, STATUS/CANCEL replies and the thread verbs all read this text.

/** HTML beyond this is not rendered: a command is a few lines, and rendering costs time. */
const MAX_HTML = 1024 * 1024

/** What a message holds, as the parser gives it. */
export interface MessageText { text: string, html: string | null }

/**
 * Outlook on the web and new Outlook put the quoted mail after `<div id="divRplyFwdMsg">` (with an
 * `<hr>` before it), not in a blockquote: everything from there on is the earlier mail.
 */
function cutOutlookQuote (html: string): string {
  const header = html.search(/<div[^>]*\bid\s*=\s*["']?(?:x_)?divRplyFwdMsg/i)
  if (header === -1) return html
  const rule = html.lastIndexOf('<hr', header)
  return html.slice(0, rule !== -1 && header - rule < 400 ? rule : header)
}

/** The HTML as text; quoted blocks keep a leading ">", so reading stops there. */
export function htmlAsText (html: string): string {
  return convert(cutOutlookQuote(html.slice(0, MAX_HTML)), {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'hr', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
      // Gmail and Thunderbird wrap the attribution and the quote; both are the earlier mail.
      { selector: 'div.gmail_quote', format: 'blockquote' },
      { selector: 'div.moz-cite-prefix', format: 'blockquote' },
      { selector: 'div.yandex_quote', format: 'blockquote' },
      { selector: 'div.gmail_signature', format: 'skip' }
    ]
  })
}

/** The whole text of the message: its text part, else its HTML rendered. */
export function messageText (message: MessageText): string {
  if (message.text.trim() !== '' || message.html === null) return message.text
  return htmlAsText(message.html)
}

// A line that introduces quoted mail. Reading stops at it.
const ATTRIBUTION = /(?:\bwrote|\bwrites|пишет|написал|написала|написал\(а\)|schrieb|a écrit|escribió)\s*:\s*$/iu
const ADDRESS_THEN_COLON = /<[^<>\s]+@[^<>\s]+>\s*["»]?\s*:\s*$/u
const GMAIL_RU_DATE = /\d{4}\s*г\.,?\s*в\s*\d{1,2}:\d{2}.*:\s*$/u
const MARKER = /^-{2,}\s*(?:original message|forwarded message|исходное сообщение|пересылаемое сообщение|пересланное сообщение|переадресованное сообщение)\s*-{0,}$/iu
const FORWARD_INTRO = /^(?:begin forwarded message|начало переадресованного сообщения|forwarded message)\s*:\s*$/iu
const HEADER_FROM = /^\*?(?:from|от|von|de|от кого)\s*:\*?\s*\S/iu
const HEADER_NEXT = /^\*?(?:sent|date|отправлено|дата|gesendet|envoyé|to|кому|subject|тема|cc|копия)\s*:/iu

function introducesQuote (line: string): boolean {
  if (line.includes('=') || line.length > 400) return false
  return ATTRIBUTION.test(line) || ADDRESS_THEN_COLON.test(line) || GMAIL_RU_DATE.test(line)
}

/** Where the quoted earlier mail starts among these lines (their count when nothing is quoted). */
export function quoteStart (lines: string[]): number {
  const own = ownQuoteStart(lines)
  const library = libraryMarks(lines.slice(0, own)).quote
  return library !== null && library < own ? library : own
}

function ownQuoteStart (lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string
    const line = raw.trim()
    const next = (lines[i + 1] ?? '').trim()
    if (raw.trimEnd() === '--' || line.startsWith('>')) return i
    if (MARKER.test(line) || FORWARD_INTRO.test(line) || /^_{10,}$/.test(line) || /^-{20,}$/.test(line)) return i
    if (introducesQuote(line)) return i
    // A long attribution folded in two: "On Sun, 6 Dec 2026 at 17:40, Anna <anna@" / "acme.example> wrote:".
    if (line !== '' && next !== '' && !line.includes('=') && (/^(?:on|le|am|el)\s/iu.test(line) || /<[^>]*$/u.test(line)) && introducesQuote(`${line} ${next}`)) return i
    // Outlook's header block: "From: …" followed by "Sent:", "To:", "Subject:" (or От:/Отправлено:/Кому:/Тема:).
    if (HEADER_FROM.test(line) && lines.slice(i + 1, i + 6).some((l) => HEADER_NEXT.test(l.trim()))) return i
  }
  return lines.length
}

/** Splits text into lines as the grammar reads them: any line end, odd spaces made plain. */
export function textLines (text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n').map((l) => l.replace(/[\u00a0\u2000-\u200a\u202f]/g, ' ').replace(/[\u200b\ufeff]/g, ''))
}

/** The lines of `text` above the quoted earlier mail. */
export function linesAboveQuote (text: string): string[] {
  const lines = textLines(text)
  return lines.slice(0, quoteStart(lines))
}

/** The lines the sender wrote in this message: above the quoted earlier mail. */
export function newLines (message: MessageText): string[] {
  return linesAboveQuote(messageText(message))
}

/** The text the sender wrote in this message: above the quoted earlier mail. */
export function writtenText (message: MessageText): string {
  return newLines(message).join('\n')
}
