import iconv from 'iconv-lite'
import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { fixture } from '../support/forms.js'
import { setUpMailbox } from '../support/tenant-setup.js'

const COMMAND = 'период = 2026-10\nВыгрузка: регион = Север, валюта = "руб."'
const PLAN = { arguments: { период: '2026-10' }, functions: [{ name: 'Выгрузка', args: { регион: 'Север', валюта: 'руб.' } }] }

function message (subjectHeader: string, contentHeaders: string[], body: Buffer, id: string): Buffer {
  const head = ['From: Anna <anna@sender.example>', 'To: robots@acme.example', subjectHeader, `Message-ID: <${id}@sender.example>`, 'MIME-Version: 1.0', ...contentHeaders].join('\r\n')
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body])
}

const encodedWord = (charset: string, text: string): string => `=?${charset}?B?${iconv.encode(text, charset).toString('base64')}?=`

const qp = (bytes: Buffer): string => [...bytes].map((b) => (b >= 33 && b <= 126 && b !== 61 ? String.fromCharCode(b) : b === 10 ? '\r\n' : b === 13 ? '' : `=${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('')

const cases: Array<[string, () => Buffer]> = [
  ['8-bit windows-1251', () => message(`Subject: ${encodedWord('windows-1251', 'Отчёт')}`, ['Content-Type: text/plain; charset=windows-1251', 'Content-Transfer-Encoding: 8bit'], iconv.encode(COMMAND, 'win1251'), 'cp1251')],
  ['8-bit koi8-r', () => message(`Subject: ${encodedWord('koi8-r', 'Отчёт')}`, ['Content-Type: text/plain; charset=koi8-r', 'Content-Transfer-Encoding: 8bit'], iconv.encode(COMMAND, 'koi8-r'), 'koi8')],
  ['quoted-printable iso-8859-5', () => message(`Subject: ${encodedWord('iso-8859-5', 'Отчёт')}`, ['Content-Type: text/plain; charset=iso-8859-5', 'Content-Transfer-Encoding: quoted-printable'], Buffer.from(qp(iconv.encode(COMMAND, 'iso-8859-5')), 'latin1'), 'qp-iso5')],
  ['base64 utf-8', () => message(`Subject: ${encodedWord('utf-8', 'Отчёт')}`, ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'], Buffer.from(Buffer.from(COMMAND, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n'), 'latin1'), 'b64')],
  ['an encoded-word subject folded over lines with a character split between words', () => {
    // "Отчёт" in UTF-8 is 10 bytes; the "ч" (d1 87) is cut between the two encoded words.
    const bytes = Buffer.from('Отчёт', 'utf8')
    const first = `=?UTF-8?B?${bytes.subarray(0, 5).toString('base64')}?=`
    const second = `=?UTF-8?B?${bytes.subarray(5).toString('base64')}?=`
    return message(`Subject: Re:\r\n ${first}\r\n ${second}`, ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'], Buffer.from(COMMAND, 'utf8'), 'split-word')
  }],
  ['an HTML-only message, read through its text rendering', () => message(`Subject: ${encodedWord('utf-8', 'Отчёт')}`, ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: 8bit'],
    Buffer.from('<html><body><div>период = 2026-10</div><p>Выгрузка: регион = Север, валюта = &quot;руб.&quot;</p><div>--&nbsp;<br>Анна</div></body></html>', 'utf8'), 'html-only')],
  ['multipart/alternative: the text part is read, not the HTML', () => message(`Subject: ${encodedWord('utf-8', 'Отчёт')}`, ['Content-Type: multipart/alternative; boundary="b1"'],
    Buffer.from(`--b1\r\nContent-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: base64\r\n\r\n${iconv.encode(COMMAND, 'win1251').toString('base64')}\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Неважно: x = 1</p>\r\n--b1--\r\n`, 'latin1'), 'alternative')]
]

t.test(`mail in the charsets and encodings real senders use is read right, on ${testDatabaseKind}`, async (t) => {
  const { app, database } = await buildTestApp(t)
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off' } })
  t.equal((await setup.api('POST', '/api/v1/robots', { name: 'Отчёт', allowAllSenders: true })).statusCode, 201)
  const post = async (raw: Buffer) => (await app.inject({ method: 'POST', url: `/inbound/${setup.ingressToken}/mime`, headers: { 'content-type': 'message/rfc822' }, payload: raw })).json()

  for (const [name, make] of cases) {
    const answer = await post(make())
    t.equal(answer.status, 'accepted', `${name}: accepted (${String(answer.reason)} ${JSON.stringify(answer.problems ?? [])})`)
    const launch = await database.db.selectFrom('launches').select('plan').where('message_id', '=', answer.message).executeTakeFirst()
    t.same(launch?.plan, PLAN, `${name}: the plan`)
  }

  t.test('invalid bytes in a declared charset do not stop the message from being read', async (t) => {
    const raw = fixture('mime/rails_actionmailbox_invalid_utf_iso8859-2.eml')
    const answer = await post(raw)
    t.match(answer, { status: 'rejected', reason: /unknown sender/ }, 'read as far as the sender check')
  })

  t.test('a hostile header block is refused before parsing', async (t) => {
    const raw = Buffer.from(`From: anna@sender.example\r\nSubject: Отчёт\r\nX-Padding: ${'a'.repeat(300 * 1024)}\r\n\r\nx`, 'utf8')
    t.match(await post(raw), { status: 'rejected', reason: /unreadable message: its header block is larger than 262144 bytes/ })
  })

  t.test('thousands of nested MIME parts are refused before parsing', async (t) => {
    let body = ''
    for (let i = 0; i < 300; i++) body += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`
    const raw = Buffer.from(`From: anna@sender.example\r\nSubject: x\r\nMessage-ID: <deep@sender.example>\r\n${body}`, 'utf8')
    t.match(await post(raw), { status: 'rejected', reason: /unreadable message: it has more than 200 nested MIME parts/ })
  })
})
