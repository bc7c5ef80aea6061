import type { Static } from '@sinclair/typebox'
import type { Kysely, Selectable } from 'kysely'
import { newestFirst } from '../db/pagination.js'
import type { Database, LaunchesTable, MessagesTable, NotificationsTable } from '../db/schema.js'
import { errors } from '../errors.js'
import type { Launch, LaunchDetail, LaunchQuery, Message, MessageDetail, MessageQuery, Reply } from '../schemas/activity.js'
import { cursorScope, type PageOf, type ResourceDeps } from './context.js'

// What arrived and what happened: read-only views of messages, launches and the replies about
// them, for a tenant's admins and viewers.

export type MessageView = Static<typeof Message>
export type LaunchView = Static<typeof Launch>

const iso = (d: Date | null): string | null => d?.toISOString() ?? null

function presentReply (row: Selectable<NotificationsTable>): Static<typeof Reply> {
  return { kind: row.kind, recipient: row.recipient, subject: row.subject, text: row.text_body, state: row.state, attempts: row.attempts, error: row.last_error, sentAt: iso(row.sent_at), createdAt: row.created_at.toISOString() }
}

function presentMessage (row: Selectable<MessagesTable>): MessageView {
  return {
    id: row.id,
    mailboxId: row.mailbox_id,
    door: row.door,
    status: row.status,
    reason: row.reason,
    problems: row.problems,
    fromAddress: row.from_address,
    senderId: row.sender_id,
    robotId: row.robot_id,
    messageIdHeader: row.message_id_header,
    subject: row.subject,
    authVerdict: row.auth_verdict,
    sizeBytes: row.size_bytes,
    imapFolder: row.imap_folder,
    detectionLatencyMs: row.detection_latency_ms,
    receivedAt: row.received_at.toISOString(),
    processedAt: iso(row.processed_at),
    contentRemovedAt: iso(row.content_removed_at),
    contentRemovedBy: row.content_removed_by
  }
}

/** A launch row with its robot's name and its sender's address and name (left joins). */
type LaunchRow = Selectable<LaunchesTable> & { robot_name: string | null, sender_email: string | null, sender_full_name: string | null }

function presentLaunch (row: LaunchRow): LaunchView {
  return {
    id: row.id,
    messageId: row.message_id,
    robotId: row.robot_id,
    senderId: row.sender_id,
    robot: row.robot_id !== null && row.robot_name !== null ? { id: row.robot_id, name: row.robot_name } : null,
    sender: row.sender_id !== null && row.sender_email !== null ? { id: row.sender_id, email: row.sender_email, fullName: row.sender_full_name ?? '' } : null,
    // The door answers "retrying" for a pending launch whose last attempt failed: so does the API.
    state: row.state === 'pending' && row.last_error !== null ? 'retrying' : row.state,
    attempts: row.attempts,
    jobId: row.job_id,
    jobKey: row.job_key,
    lastError: row.last_error,
    errorCode: row.error_code,
    traceId: row.trace_id,
    createdAt: row.created_at.toISOString(),
    launchedAt: iso(row.launched_at),
    finishedAt: iso(row.finished_at),
    updatedAt: row.updated_at.toISOString()
  }
}

// Everything but the raw bytes and where they wait.
const messageColumns = [
  'id', 'tenant_id', 'mailbox_id', 'door', 'dedupe_key', 'message_id_header', 'from_address', 'sender_id', 'robot_id', 'subject', 'body',
  'raw_sha256', 'size_bytes', 'auth_verdict', 'status', 'reason', 'problems', 'imap_folder', 'internal_date', 'detection_latency_ms', 'received_at', 'processed_at',
  'content_removed_at', 'content_removed_by'
] as const

async function repliesAbout (db: Kysely<Database>, about: { messageId: string } | { launchId: string }): Promise<Array<Static<typeof Reply>>> {
  let query = db.selectFrom('notifications').selectAll()
  query = 'launchId' in about ? query.where('launch_id', '=', about.launchId) : query.where('message_id', '=', about.messageId).where('launch_id', 'is', null)
  return (await query.orderBy('created_at').execute()).map(presentReply)
}

export function messagesResource (deps: ResourceDeps) {
  const { db } = deps
  return {
    /** Newest first, filtered. */
    async list (tenantId: string, q: Static<typeof MessageQuery>): Promise<PageOf<MessageView>> {
      let query = db.selectFrom('messages').select(messageColumns).where('tenant_id', '=', tenantId)
      if (q.status !== undefined) query = query.where('status', '=', q.status as Selectable<MessagesTable>['status'])
      if (q.door !== undefined) query = query.where('door', '=', q.door as Selectable<MessagesTable>['door'])
      if (q.robotId !== undefined) query = query.where('robot_id', '=', q.robotId)
      if (q.senderId !== undefined) query = query.where('sender_id', '=', q.senderId)
      if (q.since !== undefined) query = query.where('received_at', '>=', new Date(q.since))
      if (q.until !== undefined) query = query.where('received_at', '<', new Date(q.until))
      const { items, nextCursor } = await newestFirst(query, 'messages', 'received_at', q, cursorScope(deps, tenantId))
      return { items: (items as Array<Selectable<MessagesTable>>).map(presentMessage), nextCursor }
    },

    /** One message, with the launch it led to and the replies sent before any launch. */
    async get (tenantId: string, id: string): Promise<Static<typeof MessageDetail>> {
      const row = await db.selectFrom('messages').select(messageColumns).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (row === undefined) throw new errors.NotFound(`no message ${id}`)
      const launch = await db.selectFrom('launches').select('id').where('message_id', '=', row.id).executeTakeFirst()
      return { ...presentMessage(row as Selectable<MessagesTable>), body: row.body, launchId: launch?.id ?? null, replies: await repliesAbout(db, { messageId: row.id }) }
    }
  }
}

export function launchesResource (deps: ResourceDeps) {
  const { db } = deps
  const selectLaunches = () => db.selectFrom('launches')
    .leftJoin('robots', 'robots.id', 'launches.robot_id')
    .leftJoin('senders', 'senders.id', 'launches.sender_id')
    .selectAll('launches')
    .select(['robots.name as robot_name', 'senders.email as sender_email', 'senders.full_name as sender_full_name'])
  return {
    /** Newest first, filtered. */
    async list (tenantId: string, q: Static<typeof LaunchQuery>): Promise<PageOf<LaunchView>> {
      let query = selectLaunches().where('launches.tenant_id', '=', tenantId)
      if (q.state === 'retrying' || q.state === 'pending') query = query.where('launches.state', '=', 'pending').where('launches.last_error', q.state === 'retrying' ? 'is not' : 'is', null)
      else if (q.state !== undefined) query = query.where('launches.state', '=', q.state as Selectable<LaunchesTable>['state'])
      if (q.robotId !== undefined) query = query.where('launches.robot_id', '=', q.robotId)
      if (q.senderId !== undefined) query = query.where('launches.sender_id', '=', q.senderId)
      if (q.since !== undefined) query = query.where('launches.created_at', '>=', new Date(q.since))
      if (q.until !== undefined) query = query.where('launches.created_at', '<', new Date(q.until))
      const { items, nextCursor } = await newestFirst(query, 'launches', 'created_at', q, cursorScope(deps, tenantId))
      return { items: items.map(presentLaunch), nextCursor }
    },

    /** One launch with its state history, attempts, errors and replies. */
    async get (tenantId: string, id: string): Promise<Static<typeof LaunchDetail>> {
      const row = await selectLaunches().where('launches.tenant_id', '=', tenantId).where('launches.id', '=', id).executeTakeFirst()
      if (row === undefined) throw new errors.NotFound(`no launch ${id}`)
      const events = await db.selectFrom('launch_events').select(['at', 'state', 'detail']).where('launch_id', '=', row.id).orderBy('id').execute()
      return {
        ...presentLaunch(row),
        plan: row.plan,
        inputArguments: row.input_arguments,
        outputArguments: row.output_arguments,
        jobInfo: row.job_info,
        nextAttemptAt: iso(row.next_attempt_at),
        history: events.map((e) => ({ at: e.at.toISOString(), state: e.state, detail: e.detail })),
        replies: await repliesAbout(db, { launchId: row.id })
      }
    }
  }
}

export type MessagesResource = ReturnType<typeof messagesResource>
export type LaunchesResource = ReturnType<typeof launchesResource>
