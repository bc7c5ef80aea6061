import t from 'tap'
import type { Page } from 'playwright-core'
import type { Test } from 'tap'
import { buildTestApp } from '../support/app.js'
import { ADMIN_KEY, newTenant } from '../support/admin.js'
import { needsChromium, seriousViolations, startBrowser } from '../support/browser.js'
import { testDatabaseKind } from '../support/database.js'
import { eventually, setUpLaunching } from '../support/launching.js'
import { startOrchestratorSimulator } from '../support/orchestrator-simulator.js'

// The console in a real browser (Debian's Chromium), as a tenant's people use it: sign in, look at
// what happened, add a sender; a viewer and another tenant's admin see what they may. Every page
// visited is checked with axe-core for serious and critical accessibility problems.

t.test(`the console in Chromium on ${testDatabaseKind}`, async (t) => {
  if (!needsChromium(t)) return
  const sim = await startOrchestratorSimulator({ processes: ['MonthlyReport'] })
  t.teardown(sim.close)
  const { app } = await buildTestApp(t, { env: { MAILRUN_AUTH_FAILURE_LIMIT: '1000' } })
  const setup = await setUpLaunching(app, sim)
  const launched = (await setup.send()).json()
  t.match(launched, { status: 'accepted' })
  const rejected = (await setup.send('period = 2026-10\nBuildReprt', { subject: 'Monthly Report' })).json()
  t.match(rejected, { status: 'rejected' })
  await eventually(async () => sim.jobs.length === 1)
  await setup.api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada Admin', role: 'admin', password: 'acme admin password' })
  await setup.api('POST', '/api/v1/users', { email: 'vic@acme.example', name: 'Vic Viewer', role: 'viewer', password: 'acme viewer password' })
  const globex = await newTenant(app, 'Globex')
  await globex.api('POST', '/api/v1/users', { email: 'gus@globex.example', name: 'Gus', role: 'admin', password: 'globex admin password' })

  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const browser = await startBrowser(t)
  const accessible = async (t: Test, page: Page, what: string): Promise<void> => {
    const found = await seriousViolations(page)
    t.same(found.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `${what}: no serious or critical accessibility violation`)
  }
  const signIn = async (email: string, password: string): Promise<Page> => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${base}/`)
    t.match(new URL(page.url()).pathname, '/console/sign-in', '/ leads to sign-in')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${base}/console`)
    return page
  }

  t.test('an admin signs in and sees what happened', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await accessible(t, page, 'dashboard')
    t.equal(await page.locator('[data-count="dash.messages-today-accepted"]').textContent(), '1')
    t.equal(await page.locator('[data-count="dash.messages-today-rejected"]').textContent(), '1')
    await page.waitForSelector('#hourly .uplot', { timeout: 5000 })
    t.pass('the hourly chart is drawn with uPlot, served from the package')

    await page.getByRole('link', { name: 'Messages' }).click()
    await page.waitForURL(/\/console\/messages$/)
    await accessible(t, page, 'messages')
    await page.getByLabel('Status').selectOption('rejected')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.waitForURL(/status=rejected/)
    t.equal(await page.locator('tbody tr').count(), 1, 'the filter keeps the rejected message only')
    await page.locator('tbody tr a').first().click()
    await page.waitForURL(new RegExp(`/console/messages/${rejected.message as string}$`))
    t.match(await page.locator('.problems').textContent(), /BuildReprt/)
    await page.locator('details summary', { hasText: 'rejected' }).click()
    t.match(await page.locator('details pre.body').textContent(), /BuildReprt/, 'the reply is shown in full')
    await accessible(t, page, 'a rejected message')

    await page.goto(`${base}/console/messages/${launched.message as string}`)
    await page.getByRole('link', { name: /launched|completed|Job/ }).click()
    await page.waitForURL(/\/console\/launches\//)
    t.match(await page.locator('h1').textContent(), /Launch/)
    t.match(await page.locator('.timeline').textContent(), /pending/)
    t.match(await page.locator('dl').textContent(), new RegExp(String(sim.jobs[0]?.Id)))
    await accessible(t, page, 'a launch')
    await page.getByRole('link', { name: 'Launches' }).click()
    await accessible(t, page, 'launches')
  })

  t.test('an admin adds a sender with the form', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await page.getByRole('link', { name: 'Senders' }).click()
    await accessible(t, page, 'senders')
    await page.getByLabel('Full name').fill('Boris Orlov')
    await page.getByLabel('Email', { exact: true }).fill('boris@acme.example')
    await page.getByRole('button', { name: 'Add a sender' }).click()
    await page.waitForURL(/done=created/)
    t.match(await page.locator('[role=status]').textContent(), /Sender added/)
    const created = (await setup.api('GET', '/api/v1/senders?search=boris')).json().items
    t.match(created, [{ fullName: 'Boris Orlov', email: 'boris@acme.example', active: true }], 'the API sees what the console made')
    await page.getByRole('link', { name: 'Boris Orlov' }).click()
    await accessible(t, page, 'a sender')
    await page.getByLabel('May launch robots').uncheck()
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/done=saved/)
    t.match((await setup.api('GET', `/api/v1/senders/${created[0].id as string}`)).json(), { active: false })
  })

  t.test('an admin adds a robot and gets an email that launches it', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await page.getByRole('link', { name: 'Robots' }).click()
    await accessible(t, page, 'robots')
    await page.getByRole('link', { name: 'Add a robot' }).click()
    await accessible(t, page, 'the new robot form')
    await page.getByLabel('Name', { exact: true }).fill('Quarterly Close')
    await page.getByLabel('Orchestrator process').fill('MonthlyReport')
    await page.getByLabel('Inputs').fill('quarter: number, required')
    await page.getByLabel('Functions').fill('Reconcile — Match the ledgers\n  account: string, required\nPublish')
    await page.getByLabel('Anna Petrova <anna@sender.example>').check()
    await page.getByRole('button', { name: 'Add a robot' }).click()
    await page.waitForURL(/done=created/)
    await accessible(t, page, 'a robot')
    t.equal(await page.locator('#example').textContent(), 'quarter = 42\nReconcile: account = text\nPublish')
    const mailto = await page.getByRole('link', { name: 'Open in my mail program' }).getAttribute('href')
    t.equal(mailto, `mailto:robots@acme.example?subject=${encodeURIComponent('Quarterly Close')}&body=${encodeURIComponent('quarter = 42\nReconcile: account = text\nPublish')}`)
    // The example is what a sender would write: sent as is, it launches the robot.
    const sent = (await setup.send('quarter = 42\nReconcile: account = text\nPublish', { subject: 'Quarterly Close' })).json()
    t.match(sent, { status: 'accepted', launch: { state: 'launched' } })
  })

  t.test('on a 360 px phone: the menu opens as a column with every item on screen, and each label sits above its input', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await page.setViewportSize({ width: 360, height: 740 })
    await page.goto(`${base}/console`)
    const links = page.locator('nav[aria-label=main] a')
    t.equal(await links.count(), 10)
    t.notOk(await links.first().isVisible(), 'the menu is closed at first')
    await page.getByText('Menu', { exact: true }).click()
    for (let i = 0; i < 9; i++) {
      const box = await links.nth(i).boundingBox()
      t.ok(box !== null && box.x >= 0 && box.x + box.width <= 360, `menu item ${i + 1} is on screen`)
    }
    await accessible(t, page, 'the open menu at 360 px')
    // Run in the page (strings: this project's TypeScript has no DOM types).
    const noSideScroll = async (): Promise<boolean> => await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1') as boolean
    t.ok(await noSideScroll(), 'the dashboard does not scroll sideways')
    for (const path of [`/console/mailboxes/${setup.mailboxId}`, `/console/robots/${setup.robotId}`]) {
      await page.goto(`${base}${path}`)
      // Every text field's label ends above the top of its own input.
      const misplaced = await page.evaluate(`[...document.querySelectorAll('main label[for]')].filter((label) => {
        const input = document.getElementById(label.getAttribute('for') || '')
        if (input === null || ['checkbox', 'radio', 'hidden'].includes(input.type) || input.offsetParent === null) return false
        return label.getBoundingClientRect().bottom > input.getBoundingClientRect().top + 1
      }).map((label) => label.getAttribute('for'))`) as string[]
      t.same(misplaced, [], `${path}: every label above its input`)
      const widths = await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]') as number[]
      t.ok(await noSideScroll(), `${path} does not scroll sideways`, { widths })
    }
  })

  t.test('a working day in Russian on a phone: find a failed launch by robot, retry it, cancel a running one, replay a message after adding its sender', async (t) => {
    const olga = (await setup.api('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Ольга', role: 'admin', password: 'olga admin password' })).json()
    await setup.api('PATCH', `/api/v1/users/${String(olga.id)}`, { locale: 'ru' })
    // The day's mail: a launch that gave up, one running, one refused from someone not yet a sender.
    const failed = (await setup.send('period = 2026-11\nBuildReport')).json()
    await app.database.db.updateTable('launches').set({ state: 'failed', last_error: 'gave up after 12 attempts: Orchestrator answered 503', finished_at: new Date() }).where('id', '=', failed.launch.id).execute()
    sim.jobs.splice(sim.jobs.findIndex((j) => j.Id === failed.launch.jobId), 1)
    const running = (await setup.send('period = 2026-12\nBuildReport')).json()
    await sim.setJobState(running.launch.jobId, 'Running')
    const stranger = (await setup.send('period = 2026-12\nBuildReport', { from: 'Борис <boris@sender.example>' })).json()
    t.equal(stranger.status, 'rejected')

    const page = await signIn('olga@acme.example', 'olga admin password')
    await page.setViewportSize({ width: 360, height: 740 })
    await page.getByText('Меню', { exact: true }).click()
    await page.getByRole('link', { name: 'Запуски' }).click()
    await page.getByLabel('Робот').selectOption({ label: 'Monthly Report' })
    await page.getByLabel('Состояние').selectOption({ label: 'не запущен' })
    await page.getByRole('button', { name: 'Отобрать' }).click()
    await page.locator(`a[href="/console/launches/${String(failed.launch.id)}"]`).click()
    await accessible(t, page, 'a failed launch, in Russian at 360 px')
    const jobs = sim.jobs.length
    await page.getByRole('button', { name: 'Повторить' }).click()
    await page.waitForURL(/done=retried/)
    t.match(await page.locator('.notice').textContent(), /Сделана новая попытка/)
    t.equal(sim.jobs.length, jobs + 1, 'retried: one job')
    await page.reload()
    t.equal(sim.jobs.length, jobs + 1, 'a reload does not retry again')

    await page.goto(`${base}/console/launches/${String(running.launch.id)}`)
    await page.getByRole('button', { name: 'Отменить' }).click()
    await page.waitForURL(/done=stop_requested/)
    t.match(await page.locator('.timeline').textContent(), /остановку запросил\(а\) Ольга \(консоль\)/)

    await setup.api('POST', '/api/v1/senders', { fullName: 'Борис', email: 'boris@sender.example' })
    await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { allowAllSenders: true })
    await page.goto(`${base}/console/messages/${String(stranger.message)}`)
    await accessible(t, page, 'a refused message, in Russian at 360 px')
    await page.getByRole('button', { name: 'Разобрать заново' }).click()
    await page.waitForURL(/done=replayed/)
    t.match(await page.locator('.notice').textContent(), /Письмо разобрано заново/)
    t.equal(sim.jobs.length, jobs + 2, 'the replayed message launched, once')
    await setup.api('PATCH', `/api/v1/robots/${setup.robotId}`, { allowAllSenders: false })
  })

  t.test('test send: a dry run shows the StartJobs body and launches nothing; a real run launches, marked as a test', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await page.getByRole('link', { name: 'Test send' }).click()
    await accessible(t, page, 'test send')
    await page.getByLabel('Robot (the subject)').selectOption({ label: 'Monthly Report' })
    await page.getByLabel('Body').fill('period = 2026-12\nBuildReport')
    const jobsBefore = sim.jobs.length
    await page.getByRole('button', { name: 'Check (dry run)' }).click()
    await page.waitForSelector('#request')
    t.match(await page.locator('#result').textContent(), /The command is valid/)
    t.match(await page.locator('#request').textContent(), /StartJobs[\s\S]*"InputArguments": "\{\\"period\\":\\"2026-12\\"/)
    await accessible(t, page, 'a dry run')
    t.equal(sim.jobs.length, jobsBefore, 'the dry run started nothing')
    await page.getByRole('button', { name: 'Launch for real' }).click()
    // Post/redirect/get: the answer is the launch's own page.
    await page.waitForURL(/\/console\/launches\/[0-9a-f-]+\?done=tested$/)
    t.match(await page.locator('.notice').textContent(), /Test launch made/)
    t.equal(sim.jobs.length, jobsBefore + 1, 'the real run started one job')
    t.match(await page.locator('.timeline').textContent(), /console test by Ada Admin in the console/)
    await page.reload()
    await page.waitForSelector('.timeline')
    t.equal(sim.jobs.length, jobsBefore + 1, 'reloading the answer launches nothing more (it was two jobs, 9002 and 9003)')
  })

  t.test('an admin adds a mailbox and copies its ingress URL', async (t) => {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] })
    const page = await context.newPage()
    await page.goto(`${base}/console/sign-in`)
    await page.getByLabel('Email').fill('ada@acme.example')
    await page.getByLabel('Password').fill('acme admin password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('link', { name: 'Mailboxes' }).click()
    await accessible(t, page, 'mailboxes')
    await page.getByRole('link', { name: 'Add a mailbox' }).click()
    await accessible(t, page, 'the new mailbox form')
    await page.getByLabel('Address senders write to').fill('desk@acme.example')
    await page.getByRole('button', { name: 'Add a mailbox' }).click()
    await page.waitForSelector('#url-mime')
    await accessible(t, page, 'the ingress URLs and guides')
    const url = await page.locator('#url-mime').textContent()
    await page.locator('button[data-copy="url-mime"]').click()
    t.equal(await page.evaluate(async () => await (globalThis as unknown as { navigator: { clipboard: { readText: () => Promise<string> } } }).navigator.clipboard.readText()), url, 'the copy button copies the URL')
    // The URL works: a message posted to it is stored.
    const res = await fetch(new URL(new URL(url ?? '').pathname, base), { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: 'From: anna@sender.example\r\nSubject: help\r\nMessage-ID: <copied@x>\r\n\r\nhelp\r\n' })
    t.equal(res.status, 200)
    await page.getByRole('link', { name: 'Back to the mailbox' }).click()
    await accessible(t, page, 'a mailbox')
  })

  t.test('the Orchestrator page tests the connection step by step', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await page.getByRole('link', { name: 'Connections' }).click()
    await accessible(t, page, 'orchestrator')
    await page.getByRole('button', { name: 'Test the connection' }).click()
    await page.waitForSelector('#check')
    t.match(await page.locator('#check').textContent(), /The connection works/)
    await accessible(t, page, 'a connection test')
    await page.getByLabel('Default folder').fill('Nowhere')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/done=saved/)
    await page.getByRole('button', { name: 'Test the connection' }).click()
    await page.waitForSelector('#check')
    t.match(await page.locator('section[aria-labelledby=check]').textContent(), /does not work yet[\s\S]*Nowhere/)
    t.match((await setup.api('GET', '/api/v1/orchestrator')).json(), { defaultFolder: 'Nowhere', clientSecret: { set: true } }, 'the stored secret was kept')
    await page.getByLabel('Default folder').fill('Finance')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(/done=saved/)
  })

  t.test('the team page invites a person, who sets a password and signs in', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await page.getByRole('link', { name: 'Team' }).click()
    await accessible(t, page, 'team')
    await page.locator('#invite-email').fill('dora@acme.example')
    await page.locator('#invite-name').fill('Dora')
    await page.getByRole('button', { name: 'Invite someone' }).click()
    const link = await page.locator('#set-password-url').textContent()
    await accessible(t, page, 'an invitation')
    const dora = await (await browser.newContext()).newPage()
    await dora.goto(new URL(new URL(link ?? '').pathname, base).toString())
    await accessible(t, dora, 'set password')
    await dora.getByLabel('New password').fill('dora chooses a password')
    await dora.getByRole('button', { name: 'Save and sign in' }).click()
    await dora.waitForURL(`${base}/console`)
    t.match(await dora.locator('.account').textContent(), /Signed in as Dora \(viewer\), Acme/)
  })

  t.test('a form stripped of its CSRF token is refused and changes nothing', async (t) => {
    const page = await signIn('ada@acme.example', 'acme admin password')
    await page.goto(`${base}/console/senders`)
    await page.locator('form[action="/console/senders"][method="post"] input[name="_csrf"]').evaluate((input) => { (input as unknown as { remove: () => void }).remove() })
    await page.getByLabel('Full name').fill('Mallory')
    await page.getByLabel('Email', { exact: true }).fill('mallory@acme.example')
    await page.getByRole('button', { name: 'Add a sender' }).click()
    await page.waitForSelector('[role=alert]')
    t.match(await page.locator('[role=alert]').textContent(), /form expired or was not sent from this page/)
    t.same((await setup.api('GET', '/api/v1/senders?search=mallory')).json().items, [])
  })

  t.test('a viewer reads but has nothing to change with', async (t) => {
    const page = await signIn('vic@acme.example', 'acme viewer password')
    await page.goto(`${base}/console/senders`)
    t.equal(await page.getByRole('button', { name: 'Add a sender' }).count(), 0)
    t.match(await page.locator('table').textContent(), /anna@sender.example/)
  })

  t.test("another tenant's admin gets 404 on this tenant's pages", async (t) => {
    const page = await signIn('gus@globex.example', 'globex admin password')
    const res = await page.goto(`${base}/console/messages/${launched.message as string}`)
    t.equal(res?.status(), 404)
    t.match(await page.locator('[role=alert]').textContent(), /nothing here/)
    await accessible(t, page, 'the 404 page')
  })

  t.test('the instance admin manages tenants on accessible pages', async (t) => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${base}/console/sign-in`)
    await page.getByText('Instance admin', { exact: true }).click()
    await page.getByLabel('Instance-admin key').fill(ADMIN_KEY)
    await page.getByRole('button', { name: 'Sign in as the instance admin' }).click()
    await page.waitForURL(`${base}/console/admin`)
    await accessible(t, page, 'the instance page')
    await page.locator('#tenant-name').fill('Umbrella')
    await page.getByLabel('Mailboxes (licences)').fill('4')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.waitForURL(/\/console\/admin\/tenants\//)
    await accessible(t, page, 'a tenant')
    await page.getByRole('button', { name: 'Create a key' }).click()
    t.match(await page.locator('#new-key').textContent(), /^mrt_/)
  })

  t.test('a wrong password says so, on an accessible sign-in page', async (t) => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${base}/console/sign-in`)
    await accessible(t, page, 'sign-in')
    await page.getByLabel('Email').fill('ada@acme.example')
    await page.getByLabel('Password').fill('wrong password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    t.match(await page.locator('[role=alert]').textContent(), /wrong/)
  })
})
