import type { ExpressionBuilder, Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { normalizeMessageId } from '../mail/header-block.js'
import type { StatusRequest } from './command-grammar.js'

// What a sender's `status` email is answered with: their own launches (and every launch of the
// robots they are an operator of; nobody else learns about anyone's), the last ten, or one of them
// with its history.

export interface LaunchLine {
  id: string
  robot: string
  state: string
  jobId: number | null
  createdAt: string
  launchedAt: string | null
  finishedAt: string | null
  /** The error, or the job's outputs in short. */
  summary: string | null
  /** Who sent it, when not the sender asking (an operator of the robot sees everyone's). */
  by: string | null
}

export interface StatusReport {
  launches: LaunchLine[]
  /** For `status <ref>`: the launch's history, oldest first; null when the ref matched nothing. */
  history?: Array<{ at: string, state: string, detail: string | null }> | null
  ref?: string
}

const RECENT = 10

/**
 * The launches a sender may see and cancel: their own, and every launch of the robots they
 * operate — not an admin's console test made in their name, which they never sent.
 */
function visibleTo (senderId: string) {
  return (eb: ExpressionBuilder<Database, 'launches'>) => eb.and([
    eb.or([
      eb('launches.sender_id', '=', senderId),
      eb('launches.robot_id', 'in', eb.selectFrom('robot_operators').select('robot_operators.robot_id').where('robot_operators.sender_id', '=', senderId))
    ]),
    eb.not(eb.exists(eb.selectFrom('messages').select('messages.id').whereRef('messages.id', '=', 'launches.message_id').where('messages.door', '=', 'console')))
  ])
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function summary (row: { last_error: string | null, job_info: string | null, output_arguments: Record<string, unknown> | null, state: string }): string | null {
  if (row.state === 'failed' || row.state === 'retrying') return row.last_error
  if (row.state === 'faulted') return row.job_info ?? row.last_error
  const outputs = row.output_arguments
  if (outputs === null || Object.keys(outputs).length === 0) return null
  const text = Object.entries(outputs).map(([k, v]) => `${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')
  return text.length > 200 ? `${text.slice(0, 199)}…` : text
}

/**
 * The launch a reply is about: its In-Reply-To and References carry the Message-ID of the email that
 * started it (mailrun's replies keep it in their References, and mail clients carry it on). Only a
 * launch this sender may see (their own, or of a robot they operate); the newest when the thread
 * holds several.
 */
export async function launchInThread (db: Kysely<Database>, mailboxId: string, senderId: string, ids: Array<string | null>): Promise<string | null> {
  const keys = [...new Set(ids.map((id) => normalizeMessageId(id)).filter((id): id is string => id !== null))].slice(-50)
  if (keys.length === 0) return null
  const row = await db.selectFrom('messages').innerJoin('launches', 'launches.message_id', 'messages.id').select('launches.id')
    .where('messages.mailbox_id', '=', mailboxId).where('messages.dedupe_key', 'in', keys)
    .where(visibleTo(senderId))
    .orderBy('launches.created_at', 'desc').limit(1).executeTakeFirst()
  return row?.id ?? null
}

/** Which launch a sender means: one found in the thread, or the id or job number they wrote. */
export type LaunchRef = { launchId: string } | { text: string }

/** The launch `ref` names, if the sender may see it (their own, or a robot they operate). */
export async function findVisibleLaunch (db: Kysely<Database>, tenantId: string, senderId: string, ref: LaunchRef): Promise<string | null> {
  const text = 'launchId' in ref ? ref.launchId : ref.text
  let query = db.selectFrom('launches').select('launches.id').where('launches.tenant_id', '=', tenantId)
    .where(visibleTo(senderId))
  if (UUID.test(text)) query = query.where('launches.id', '=', text)
  else if (/^\d{1,15}$/.test(text)) query = query.where('launches.job_id', '=', Number(text))
  else return null
  return (await query.orderBy('launches.created_at', 'desc').limit(1).executeTakeFirst())?.id ?? null
}

export async function statusReport (db: Kysely<Database>, tenantId: string, senderId: string, request: StatusRequest): Promise<StatusReport> {
  let query = db.selectFrom('launches').leftJoin('robots', 'robots.id', 'launches.robot_id').leftJoin('senders', 'senders.id', 'launches.sender_id')
    .select(['launches.id', 'robots.name as robot', 'launches.state', 'launches.job_id', 'launches.created_at', 'launches.launched_at', 'launches.finished_at', 'launches.last_error', 'launches.job_info', 'launches.output_arguments', 'launches.sender_id', 'senders.full_name as sender_name', 'senders.email as sender_email'])
    .where('launches.tenant_id', '=', tenantId)
    .where(visibleTo(senderId))
  if (request.which === 'one') {
    const ref = request.ref
    if (UUID.test(ref)) query = query.where('launches.id', '=', ref)
    else if (/^\d{1,15}$/.test(ref)) query = query.where('launches.job_id', '=', Number(ref))
    else return { launches: [], history: null, ref }
  }
  const rows = await query.orderBy('launches.created_at', 'desc').limit(request.which === 'one' ? 1 : RECENT).execute()
  const launches = rows.map((r) => ({
    id: r.id,
    robot: r.robot ?? '?',
    state: r.state,
    jobId: r.job_id,
    createdAt: r.created_at.toISOString(),
    launchedAt: r.launched_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    summary: summary({ ...r, output_arguments: r.output_arguments as Record<string, unknown> | null }),
    by: r.sender_id === senderId ? null : `${r.sender_name ?? ''} <${r.sender_email ?? '?'}>`.trim()
  }))
  if (request.which === 'recent') return { launches }
  const one = launches[0]
  if (one === undefined) return { launches: [], history: null, ref: request.ref }
  const events = await db.selectFrom('launch_events').select(['at', 'state', 'detail']).where('launch_id', '=', one.id).orderBy('id').limit(50).execute()
  return { launches, history: events.map((e) => ({ at: e.at.toISOString(), state: e.state, detail: e.detail })), ref: request.ref }
}
