import type { Kysely, Selectable, Transaction } from 'kysely'
import type { Database, NotificationChannelsTable } from '../db/schema.js'
import { escapeHtml } from '../notify/compose-reply.js'
import type { OutgoingAlert } from './channel-request.js'

// An email channel hands its alert to the reply outbox, sent through one of the tenant's own
// mailboxes (the oldest), to the channel's addresses or, when it names none, to the tenant's admins.

export async function queueAlertEmail (db: Kysely<Database> | Transaction<Database>, channel: Pick<Selectable<NotificationChannelsTable>, 'tenant_id' | 'recipients'>, alert: OutgoingAlert): Promise<{ ok: boolean, answer: string }> {
  const mailbox = await db.selectFrom('mailboxes').select('id').where('tenant_id', '=', channel.tenant_id).orderBy('created_at').limit(1).executeTakeFirst()
  if (mailbox === undefined) return { ok: false, answer: 'the tenant has no mailbox to send alerts from: add one' }
  const recipients = channel.recipients.length > 0
    ? channel.recipients
    : (await db.selectFrom('users').select('email').where('tenant_id', '=', channel.tenant_id).where('role', '=', 'admin').where('disabled_at', 'is', null).execute()).map((u) => u.email)
  if (recipients.length === 0) return { ok: false, answer: 'nobody to send to: the channel names no address and the tenant has no admin users' }
  const { title, detail, open } = alert.text
  await db.insertInto('notifications').values(recipients.map((recipient) => ({
    tenant_id: channel.tenant_id,
    mailbox_id: mailbox.id,
    kind: 'alert',
    recipient,
    subject: `[mailrun] ${title}`,
    text_body: `${detail}\n\n${open}: ${alert.link}\n`,
    html_body: `<!doctype html><html><body style="font-family:sans-serif"><h2 style="font-size:1.1em">${escapeHtml(title)}</h2>${alert.text.lines !== undefined ? `<ul>${alert.text.lines.map((l) => `<li>${escapeHtml(l.replace(/^• /, ''))}</li>`).join('')}</ul>` : `<p>${escapeHtml(detail)}</p>`}<p><a href="${escapeHtml(alert.link)}">${escapeHtml(open)}</a></p></body></html>`,
    headers: JSON.stringify({})
  }))).execute()
  return { ok: true, answer: `queued for ${recipients.length} recipient${recipients.length === 1 ? '' : 's'}` }
}
