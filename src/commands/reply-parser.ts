import EmailReplyParser from 'email-reply-parser'

// email-reply-parser (Crisp's port of GitHub's EmailReplyParser) knows the attribution lines and
// sign-offs of many clients and languages ("Le … a écrit :", "Am … schrieb", "Envoyé de mon
// iPhone", "-----Ursprüngliche Nachricht-----"). mailrun asks it where the quoted mail and the
// signature start, and adds its own rules for what it misses (Russian clients, Outlook's header
// block without a marker: src/commands/written-text.ts and courtesy.ts); the earlier of the two
// answers wins.
//
// Its patterns backtrack on long lines (a 32 KB line took 3 s), so it sees only the first
// LINES lines, each cut to nothing past MAX_LINE characters: no attribution line is that long,
// and the worst case stays near 40 ms. mailrun's own rules read every line.

const LINES = 200
const MAX_LINE = 200

export interface LibraryMarks {
  /** Index of the line where the quoted earlier mail starts, if the library sees one. */
  quote: number | null
  /** Index of the line where a signature starts, if the library sees one. */
  signature: number | null
}

// Reading one message asks about the same lines several times (the quote, the signature, the verb):
// the last answer is kept.
let last: { text: string, marks: LibraryMarks } | null = null

export function libraryMarks (lines: string[]): LibraryMarks {
  const sample = lines.slice(0, LINES).map((l) => l.length > MAX_LINE ? '' : l)
  const text = sample.join('\n')
  if (last?.text === text) return { ...last.marks }
  const marks = readMarks(sample, text)
  last = { text, marks }
  return { ...marks }
}

function readMarks (sample: string[], text: string): LibraryMarks {
  const marks: LibraryMarks = { quote: null, signature: null }
  let cursor = 0
  for (const fragment of new EmailReplyParser().read(text).getFragments()) {
    const contentLines = fragment.getContent().split('\n').map((l) => l.trim())
    const first = contentLines.find((l) => l !== '')
    if (first === undefined) continue
    const at = sample.findIndex((l, i) => i >= cursor && l.trim() === first)
    if (at === -1) continue
    if (fragment.isQuoted() && marks.quote === null) marks.quote = at
    if (fragment.isSignature() && !fragment.isQuoted() && marks.signature === null && (marks.quote === null || at < marks.quote)) marks.signature = at
    cursor = at + 1
  }
  return marks
}
