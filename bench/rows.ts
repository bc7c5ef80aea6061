import MailComposer from 'nodemailer/lib/mail-composer'
import writeXlsxFile from 'write-excel-file/node'
import { signMessage } from '../tests/support/mail.js'
import type { DatabaseKind } from './support/targets.js'
import { freshDatabase } from './support/targets.js'
import { SENDER, setUpTenant } from './support/tenant.js'
import { ADMIN_KEY, startMailrun, type Shared } from './push.js'

// A spreadsheet of work (#17): one DKIM-signed email with a CSV (and one with an XLSX) of `rows`
// rows sent to a queue robot, timed from the POST to the door's answer with every row added as a
// queue item at the simulator (BulkAddQueueItems, 1,000 per request). The door waits for the
// launch up to MAILRUN_LAUNCH_DEADLINE_MS, raised here so the answer marks the end.

export interface RowsPlan { rows: number, workDir: string }
export interface RowsReport { rows: number, runs: Array<{ database: DatabaseKind, file: 'csv' | 'xlsx', bytes: number, seconds: number, added: number, bulkRequests: number }> }

const QUEUE_ROBOT = {
  name: 'Pay Invoices',
  processName: 'PayInvoices',
  launchMode: 'queue',
  queueName: 'Invoices',
  parameters: [{ name: 'Account', type: 'string', required: true }, { name: 'Amount', type: 'number', required: true }, { name: 'Due', type: 'date' }, { name: 'Comment', type: 'string' }]
}

async function files (rows: number): Promise<{ csv: Buffer, xlsx: Buffer }> {
  const lines = ['Account;Amount;Due;Comment']
  const cells = [[{ value: 'Account' }, { value: 'Amount' }, { value: 'Due' }, { value: 'Comment' }]]
  for (let i = 0; i < rows; i++) {
    lines.push(`СЧ-${100000 + i};${i % 9000},${i % 100};${1 + (i % 28)}.12.2026;"оплата по договору ${i}"`)
    cells.push([{ value: `ACC-${100000 + i}` }, { value: (i % 9000) + (i % 100) / 100, type: Number }, { value: new Date(Date.UTC(2026, 11, 1 + (i % 28))), type: Date, format: 'yyyy-mm-dd' }, { value: `payment ${i}` }] as never)
  }
  return { csv: Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`), xlsx: await writeXlsxFile(cells as never).toBuffer() }
}

export async function benchRows (kinds: DatabaseKind[], plan: RowsPlan, shared: Shared, report: (line: string) => void): Promise<RowsReport> {
  const { csv, xlsx } = await files(plan.rows)
  const runs: RowsReport['runs'] = []
  for (const kind of kinds) {
    const database = await freshDatabase(kind)
    const { service } = await startMailrun(kind, { ...database.env, MAILRUN_LAUNCH_DEADLINE_MS: '120000' }, shared, plan.workDir)
    try {
      const tenant = await setUpTenant(service.url, ADMIN_KEY, { simulatorUrl: shared.simulator.url, smtpPort: shared.smtpPort })
      await tenant.api.call('POST', '/api/v1/robots', { ...QUEUE_ROBOT, senderIds: [tenant.senderId] })
      for (const [file, content] of [['csv', csv], ['xlsx', xlsx]] as const) {
        const mime = await new MailComposer({
          from: `${SENDER.fullName} <${SENDER.email}>`,
          to: 'robots@acme.example',
          subject: QUEUE_ROBOT.name,
          messageId: `<rows-${kind}-${file}-${Date.now()}@finance.example>`,
          text: 'Accounts for December attached.',
          attachments: [{ filename: `accounts.${file}`, content }]
        }).compile().build()
        const raw = await signMessage(mime, shared.key)
        const bulkBefore = shared.simulator.requests.filter((r) => r.path.endsWith('BulkAddQueueItems')).length
        const itemsBefore = shared.simulator.queueItems.length
        const t0 = performance.now()
        const res = await fetch(tenant.mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw })
        const answer = await res.json() as { status: string, launch?: { state: string } }
        const seconds = Math.round((performance.now() - t0) / 10) / 100
        if (answer.launch?.state !== 'launched') throw new Error(`rows bench: the ${file} was not launched: ${JSON.stringify(answer)}`)
        const added = shared.simulator.queueItems.length - itemsBefore
        const bulkRequests = shared.simulator.requests.filter((r) => r.path.endsWith('BulkAddQueueItems')).length - bulkBefore
        runs.push({ database: kind, file, bytes: raw.length, seconds, added, bulkRequests })
        report(`${kind} ${file}: ${plan.rows} rows (${Math.round(raw.length / 1024)} KB email) → ${added} queue items in ${seconds} s, ${bulkRequests} BulkAddQueueItems requests`)
      }
    } finally {
      await service.stop()
      await database.drop()
    }
  }
  return { rows: plan.rows, runs }
}
