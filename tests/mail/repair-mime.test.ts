import t from 'tap'
import iconv from 'iconv-lite'
import { parseMessage } from '../../src/mail/parse-message.js'
import { readableName } from '../../src/mail/readable-name.js'
import { messageText } from '../../src/commands/written-text.js'

// Mail that Python's email package and mail clients read, and mailparser alone read as empty or as
// garbage (#27, items 1, 7 and 8): each is read as its sender wrote it.

const HEAD = 'From: anna@sender.example\r\nTo: robots@acme.example\r\nSubject: Monthly Report\r\nMessage-ID: <1@sender.example>\r\nMIME-Version: 1.0\r\n'
const COMMAND = 'period = 2026-10\r\nBuildReport\r\n'
const read = async (raw: string | Buffer): Promise<string> => messageText(await parseMessage(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw)).trim()

t.test('HTML with no text part inside multipart/related (a phone with a signature logo) is read', async (t) => {
  const html = '<html><body><div>period = 2026-10</div><div>BuildReport</div><br><img src="cid:logo"></body></html>'
  const logo = 'Content-Type: image/png\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n'
  const related = `--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n--R\r\n${logo}--R--\r\n`
  t.equal(await read(`${HEAD}Content-Type: multipart/related; boundary="R"\r\n\r\n${related}`), 'period = 2026-10\nBuildReport')
  t.equal(await read(`${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: multipart/related; boundary="R"\r\n\r\n${related}--M--\r\n`), 'period = 2026-10\nBuildReport', 'mixed wrapping related')
  t.equal(await read(`${HEAD}Content-Type: multipart/alternative; boundary="A"\r\n\r\n--A\r\nContent-Type: multipart/related; boundary="R"\r\n\r\n${related}--A--\r\n`), 'period = 2026-10\nBuildReport', 'alternative holding only related')
})

t.test('malformed MIME that Python still reads is read', async (t) => {
  t.equal(await read(`${HEAD}Content-Type: text\r\n\r\n${COMMAND}`), 'period = 2026-10\nBuildReport', 'Content-Type: text without a subtype')
  t.equal(await read(`${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text\r\n\r\n${COMMAND}--M--\r\n`), 'period = 2026-10\nBuildReport', 'a part typed text without a subtype')
  t.equal(await read(`${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: \r\n\r\n${COMMAND}--M--\r\n`), 'period = 2026-10\nBuildReport', 'a part with an empty Content-Type')
  t.equal(await read(`${HEAD}Content-Type: \r\n\r\n${COMMAND}`), 'period = 2026-10\nBuildReport', 'an empty Content-Type')
  t.equal(await read(`${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\n${COMMAND}`), 'period = 2026-10\nBuildReport', 'no closing boundary')
  t.equal(await read(`${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\n${COMMAND}--M--\r\n`), 'period = 2026-10\nBuildReport', 'no blank line after the part headers')
  t.equal(await read(`${HEAD}Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${COMMAND}`), 'period = 2026-10\nBuildReport', 'a "base64" message that holds plain text')
  t.equal(await read(`${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${COMMAND}--M--\r\n`), 'period = 2026-10\nBuildReport', 'a "base64" part that holds plain text')
  const base64 = Buffer.from(COMMAND).toString('base64')
  t.equal(await read(`${HEAD}Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64}\r\n`), 'period = 2026-10\nBuildReport', 'real base64 is still decoded')
})

t.test('a raw 8-bit attachment name is read in the declared charset, else the one its bytes suggest', async (t) => {
  const name = 'Накладная 5 от 06.12.pdf'
  const message = (charset: string, text: string): Buffer => Buffer.concat([Buffer.from(`${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain${text}\r\n\r\nhi\r\n--M\r\nContent-Type: application/pdf; name="`, 'latin1'), iconv.encode(name, charset), Buffer.from('"\r\nContent-Disposition: attachment; filename="', 'latin1'), iconv.encode(name, charset), Buffer.from('"\r\n\r\nxx\r\n--M--\r\n', 'latin1')])
  t.equal((await parseMessage(message('windows-1251', '; charset=windows-1251'))).attachments[0]?.filename, name, 'windows-1251, declared by the text part')
  t.equal((await parseMessage(message('koi8-r', '; charset=koi8-r'))).attachments[0]?.filename, name, 'KOI8-R, declared')
  t.equal((await parseMessage(message('windows-1251', ''))).attachments[0]?.filename, name, 'windows-1251, told by its bytes')
  t.equal((await parseMessage(message('koi8-r', ''))).attachments[0]?.filename, name, 'KOI8-R, told by its bytes')
  t.equal((await parseMessage(message('utf8', ''))).attachments[0]?.filename, name, 'UTF-8')
  t.equal(readableName('Müller.pdf', null), 'Müller.pdf', 'a name read right stays')
  t.equal(readableName('M\u00fcller.pdf'.normalize('NFC'), 'windows-1252'), 'Müller.pdf')
})

t.test('a raw 8-bit subject without a declared charset is read in the charset its bytes suggest', async (t) => {
  for (const charset of ['windows-1251', 'koi8-r']) {
    const raw = Buffer.concat([Buffer.from('From: anna@sender.example\r\nTo: robots@acme.example\r\nSubject: ', 'latin1'), iconv.encode('Ежемесячный отчёт', charset), Buffer.from('\r\nMessage-ID: <2@sender.example>\r\n\r\nperiod = 2026-10\r\n', 'latin1')])
    t.equal((await parseMessage(raw)).subject, 'Ежемесячный отчёт', charset)
  }
})

t.test('a name with a right-to-left override reads without it (#28)', async (t) => {
  const raw = `${HEAD}Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\nhi\r\n--M\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe\r\n\r\nxx\r\n--M--\r\n`
  t.equal((await parseMessage(Buffer.from(raw, 'latin1'))).attachments[0]?.filename, 'invoicefdp.exe')
})
