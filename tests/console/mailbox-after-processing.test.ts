import t from 'tap'
import { buildTestApp } from '../support/app.js'
import { csrfOf, signedInAdmins } from '../support/console-client.js'
import { testDatabaseKind } from '../support/database.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// The mailbox form carries imap.afterProcessing: saved, shown again (so a later save keeps it), and
// refused in the user's language when a folder would be swept again.

t.test(`the mailbox form's "handled mail" choice on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t)
  const setup = await setUpMailbox(app)
  const { get, post, ada, olga: olgaJar } = await signedInAdmins(app, setup.api)
  const imap = { imapOn: 'on', imapHost: 'imap.acme.example', imapPort: '993', imapTls: 'on', imapUser: 'ops@acme.example', imapPassword: 'imap-app-password-1' }

  const form = await get(ada, '/console/mailboxes/new')
  const created = await post(ada, '/console/mailboxes', { _csrf: csrfOf(form.body), address: 'ops@acme.example', active: 'on', senderAuth: 'off', ...imap, imapAfter: 'move', imapProcessedFolder: 'mailrun/Done', imapRejectedFolder: 'mailrun/Refused' })
  t.ok([200, 201, 303].includes(created.statusCode), created.body.slice(0, 300))
  const mailbox = ((await setup.api('GET', '/api/v1/mailboxes')).json().items as Array<{ id: string, address: string, imap: unknown }>).find((m) => m.address === 'ops@acme.example')
  t.match(mailbox?.imap, { afterProcessing: 'move', processedFolder: 'mailrun/Done', rejectedFolder: 'mailrun/Refused' })
  const page = await get(ada, `/console/mailboxes/${String(mailbox?.id)}`)
  t.match(page.body, '<option value="move" selected>')
  t.match(page.body, 'value="mailrun/Done"')

  const ru = await get(olgaJar, `/console/mailboxes/${String(mailbox?.id)}`)
  t.match(ru.body, 'перемещать в папку')
  const refused = await post(olgaJar, `/console/mailboxes/${String(mailbox?.id)}`, { _csrf: csrfOf(ru.body), address: 'ops@acme.example', active: 'on', senderAuth: 'off', ...imap, imapPassword: '', imapAfter: 'move', imapProcessedFolder: 'INBOX' })
  t.equal(refused.statusCode, 400)
  t.match(refused.body, 'Папка для обработанных писем: «INBOX» — папка, в которой mailrun ищет новые письма: выберите другую')
  const seen = await post(olgaJar, `/console/mailboxes/${String(mailbox?.id)}`, { _csrf: csrfOf(ru.body), address: 'ops@acme.example', active: 'on', senderAuth: 'off', ...imap, imapPassword: '', imapAfter: 'seen', imapProcessedFolder: 'ignored when not moving' })
  t.ok([200, 303].includes(seen.statusCode), seen.body.slice(0, 300))
  t.match((await setup.api('GET', `/api/v1/mailboxes/${String(mailbox?.id)}`)).json().imap, { afterProcessing: 'seen', processedFolder: null })

  // The canary: switched on in the form, and its last result on the page, in Russian.
  const page2 = await get(olgaJar, `/console/mailboxes/${String(mailbox?.id)}`)
  const canaryOn = await post(olgaJar, `/console/mailboxes/${String(mailbox?.id)}`, { _csrf: csrfOf(page2.body), address: 'ops@acme.example', active: 'on', senderAuth: 'off', ...imap, imapPassword: '', imapAfter: 'seen', canaryOn: 'on', canaryInterval: '15', canaryDeadline: '120' })
  t.ok([200, 303].includes(canaryOn.statusCode), canaryOn.body.slice(0, 300))
  t.match((await setup.api('GET', `/api/v1/mailboxes/${String(mailbox?.id)}`)).json().canary, { intervalMinutes: 15, deadlineSeconds: 120 })
  t.match((await get(olgaJar, `/console/mailboxes/${String(mailbox?.id)}`)).body, 'Последнее проверочное письмо: ещё не отправлялось.')
  const tooOften = await post(olgaJar, `/console/mailboxes/${String(mailbox?.id)}`, { _csrf: csrfOf(page2.body), address: 'ops@acme.example', active: 'on', senderAuth: 'off', ...imap, imapPassword: '', imapAfter: 'seen', canaryOn: 'on', canaryInterval: '1', canaryDeadline: '120' })
  t.equal(tooOften.statusCode, 400)
  t.match(tooOften.body, 'Проверочное письмо каждые (минут): должно быть не меньше 5')
})
