import { problem } from '../commands/problem-text.js'
import { inSpan } from '../telemetry/spans.js'
import { detectCanary } from '../canary/canary-watch.js'
import { readCanaryHeader } from '../canary/canary-header.js'
import { type Insertable, type Kysely, type Transaction } from 'kysely'
import { createBatcher } from '../async/batcher.js'
import type { KeptRows } from '../db/kept-rows.js'
import { storableText } from '../db/storable-text.js'
import type { DNSResolver } from 'mailauth'
import type { Logger } from 'pino'
import { sha256Hex } from '../crypto/sha256.js'
import type { Database, MessagesTable, MessageStatus, Problem, ReplyTo } from '../db/schema.js'
import { automaticReason } from '../mail/automatic.js'
import { normalizeMessageId, readHeaders } from '../mail/header-block.js'
import { parseMessage, UnreadableMessage, type ParsedMessage } from '../mail/parse-message.js'
import { senderAddress } from '../mail/sender-address.js'
import type { Metrics } from '../metrics.js'
import { catalogueFor } from '../notify/catalogue.js'
import type { CatalogueEntry, Locale, ReplyContent } from '../notify/compose-reply.js'
import type { ReplyLimits } from '../notify/launch-replies.js'
import { queueReply, recordNotReplied } from '../notify/outbox.js'
import { robotNameKey } from '../commands/robot-name.js'
import { authenticateSender, type AuthVerdict } from './authenticate-sender.js'
import { cancelRequest, isHelpRequest, robotNameFromSubject, statusRequest, threadVerb } from '../commands/command-grammar.js'
import { readCommand, writesNothing } from '../commands/read-command.js'
import { messageText } from '../commands/written-text.js'
import { launchInThread, statusReport, type LaunchRef } from '../commands/status-report.js'
import type { CancelOutcome } from '../launch/cancel-launch.js'
import type { InboundMail, SmtpClient, TargetMailbox } from './inbound-mail.js'
import type { LaunchOutcome, Launcher, NewLaunch } from './launcher.js'
import { writeDecidedLaunch } from './decided-launch.js'
import { boundProblems, clip } from '../commands/problems.js'
import { chunkCount, dropChunks, readChunks, writeChunks } from './raw-chunks.js'
import { SPOOL_MIN_BYTES, type RawSpool } from './raw-spool.js'
import { noteDecideFailure } from './undecided.js'
import { acceptFiles, type AcceptedFile } from '../attachments/attachment-policy.js'
import { defaultTableLimits, spreadsheetRows, spreadsheetsOf } from './spreadsheet-rows.js'
import type { QueueRow } from '../spreadsheets/rows-to-items.js'
import type { TableLimits } from '../spreadsheets/table.js'

export interface ReceiveResult {
  message: string
  status: 'accepted' | 'duplicate' | 'rejected' | 'ignored'
  reason?: string
  problems?: Problem[]
  launch?: LaunchOutcome
}

export interface ReceiverDeps {
  db: Kysely<Database>
  logger: Logger
  metrics: Metrics
  resolver?: DNSResolver
  launcher?: Launcher
  replies: ReplyLimits
  /** Called after a reply was queued, so it can be sent without waiting for the next pass. */
  onReplyQueued?: () => void
  /** Embedded database with a data directory: large raw messages wait in files, not rows. */
  spool?: RawSpool
  /** How large a spreadsheet a queue robot's email may carry. */
  spreadsheets?: TableLimits
  /** Where the tenant, sender and robot a message names are kept between messages (db/kept-rows.ts; the 'tenant' topic). */
  kept?: KeptRows<SenderAndRobot>
}

/** Work to do inside the transaction that stores the message (a Mailgun token, say). */
export type AfterStore = (trx: Transaction<Database>, messageId: string) => Promise<void>

const MAX_HEADER_SCAN = 256 * 1024
const QUEUE_GRACE_MS = 30_000

/** Per mailbox: the normalised Message-ID, or a hash of the bytes for a message without one. */
export async function dedupeKey (raw: Buffer): Promise<string> {
  const header = readHeaders(raw, MAX_HEADER_SCAN).find(([name]) => name === 'message-id')
  return normalizeMessageId(header?.[1]) ?? `sha256:${await sha256Hex(raw)}`
}

type NewMessage = Insertable<MessagesTable>

/** Stores messages in one statement: each answers its own id, or undefined when it was already there (the same message twice among them: the first is stored, the second is the duplicate). */
async function insertMessages (executor: Kysely<Database>, batch: NewMessage[]): Promise<Array<{ id: string } | undefined>> {
  const rows = await executor.insertInto('messages').values(batch)
    .onConflict((oc) => oc.columns(['mailbox_id', 'dedupe_key']).doNothing()).returning(['id', 'mailbox_id', 'dedupe_key']).execute()
  const byKey = new Map(rows.map((row) => [`${row.mailbox_id}\n${row.dedupe_key}`, { id: row.id }]))
  return batch.map((values) => {
    // The key as stored: a NUL in a Message-ID is stored as U+FFFD (storable-text.ts), and
    // comparing the key as given would take a stored message for a duplicate, never decided.
    const key = `${values.mailbox_id}\n${storableText(values.dedupe_key)}`
    const row = byKey.get(key)
    byKey.delete(key)
    return row
  })
}

async function insertMessage (executor: Kysely<Database>, values: NewMessage): Promise<{ id: string } | undefined> {
  return (await insertMessages(executor, [values]))[0]
}

/** Where a stored message's raw bytes wait for its decision. */
interface RawPlace { spool: string | null, chunked: boolean }

interface Decision {
  status: Exclude<MessageStatus, 'received'>
  reason: string | null
  problems?: Problem[]
  fromAddress?: string | null
  senderId?: string | null
  robotId?: string | null
  verdict?: AuthVerdict
  keepContent?: { subject: string, body: string }
  plan?: { arguments: Record<string, unknown>, functions: unknown[], ignored?: string[] }
  /** Attachments the job receives, uploaded to `folder` in the robot's bucket before it starts; the raw copy stays until then. */
  files?: { folder: string, accepted: AcceptedFile[] }
  /** A spreadsheet's rows, one queue item each, stored with the launch. */
  rows?: { items: QueueRow[], skipped: { rows: number, problems: Problem[] } }
  /** Where to answer: only for authenticated, known senders. */
  replyTo?: ReplyTo
  locale?: Locale
  reply?: ReplyContent
  notReplied?: { recipient: string, why: string }
}

export interface Receiver {
  receive: (mailbox: TargetMailbox, mail: InboundMail, afterStore?: AfterStore) => Promise<ReceiveResult>
  processStored: (messageId: string) => Promise<ReceiveResult>
  /** Records a failed attempt at deciding a stored message (its backoff, or its end as failed). */
  noteFailure: (messageId: string, error: unknown) => Promise<'retrying' | 'failed'>
  /** Messages this process stored but could not decide (the database went away between the two): recovery takes them at once. */
  stranded: () => string[]
}

/** What is kept of a text to show it: enough to see what was written, bounded whatever was sent. */
const KEPT_BODY_CHARS = 10_000
function clipped (text: string): string {
  return text.length <= KEPT_BODY_CHARS ? text : `${text.slice(0, KEPT_BODY_CHARS)}\n… (${text.length - KEPT_BODY_CHARS} more characters not kept)`
}

/** Everything authorization needs, in one round trip: the tenant, the sender on its allow-list, the robot and whether the sender may run it. */
async function findSenderAndRobot (db: Kysely<Database>, tenantId: string, spellings: string[], robotKey: string | null) {
  return await db.selectFrom('tenants')
    .leftJoin('senders', (join) => join.onRef('senders.tenant_id', '=', 'tenants.id').on((eb) => eb(eb.fn('lower', ['senders.email']), 'in', spellings)))
    .leftJoin('robots', (join) => join.onRef('robots.tenant_id', '=', 'tenants.id').on((eb) => robotKey === null ? eb.val(false) : eb('robots.name_key', '=', robotKey)))
    .select((eb) => [
      'tenants.id as tenant_id', 'tenants.locale', 'tenants.contact_email', 'senders.id as sender_id', 'senders.active as sender_active',
      'robots.id as robot_id', 'robots.name as robot_name', 'robots.allow_all_senders', 'robots.parameters', 'robots.functions', 'robots.launch_mode', 'robots.invalid_rows', 'robots.extra_columns', 'robots.escape_formulas', 'robots.attachments',
      eb.exists(eb.selectFrom('robot_senders').select('robot_senders.sender_id').whereRef('robot_senders.robot_id', '=', 'robots.id').whereRef('robot_senders.sender_id', '=', 'senders.id')).as('allowed')
    ])
    .where('tenants.id', '=', tenantId).executeTakeFirstOrThrow()
}

/** What deciding reads of a tenant for a message: its settings, the sender and the robot. */
export type SenderAndRobot = Awaited<ReturnType<typeof findSenderAndRobot>>

export function createReceiver (deps: ReceiverDeps): Receiver {
  const { db } = deps
  // Raw bytes no longer needed: what a failure leaves behind is swept at the next start.
  const dropSpooled = async (name: string | null): Promise<void> => { if (name !== null) await deps.spool?.remove(name).catch(() => {}) }
  const dropRaw = async (messageId: string, place: RawPlace): Promise<void> => {
    await dropSpooled(place.spool)
    if (place.chunked) await dropChunks(db, messageId).catch(() => {})
  }
  const noteFailure = async (messageId: string, error: unknown): Promise<'retrying' | 'failed'> => await noteDecideFailure(db, deps.metrics, messageId, error, deps.spool)
  const stranded = new Set<string>()

  /** The tenant, sender and robot behind a message, kept for a few seconds where `kept` is given (every change through mailrun drops them at once). */
  async function senderAndRobot (tenantId: string, spellings: string[], robotKey: string | null): Promise<SenderAndRobot> {
    const read = async (): Promise<SenderAndRobot> => await findSenderAndRobot(db, tenantId, spellings, robotKey)
    if (deps.kept === undefined) return await read()
    return await deps.kept.get(JSON.stringify([tenantId, robotKey, spellings]), read)
  }

  /** Decides what a stored message is; reads only, so it can run again after a crash. */
  async function decide (mailbox: TargetMailbox, mail: { raw: Buffer, rawIsOriginal: boolean, envelopeFrom: string | null, provider: InboundMail['provider'], client?: SmtpClient | null, authenticated?: AuthVerdict }): Promise<Decision> {
    if (!mailbox.active) return { status: 'ignored', reason: 'the mailbox is inactive' }
    let parsed: ParsedMessage
    try {
      parsed = await parseMessage(mail.raw)
    } catch (error) {
      if (error instanceof UnreadableMessage) return { status: 'rejected', reason: `unreadable message: ${error.message}` }
      throw error
    }
    const header = (name: string): string[] => parsed.headers.get(name) ?? []
    const shownFrom = parsed.from[0]?.address.toLowerCase() ?? ''
    const automatic = automaticReason(header, mail.envelopeFrom)
    if (automatic !== null) return { status: 'ignored', reason: automatic, notReplied: { recipient: shownFrom, why: automatic } }
    const from = senderAddress(parsed)
    if (!from.ok) return { status: 'rejected', reason: `ambiguous sender: ${from.reason}`, notReplied: { recipient: shownFrom, why: 'the sender address is ambiguous' } }

    // A replayed message that passed when it arrived keeps that verdict: where it came from has
    // not changed, and what a provider vouched for then cannot be asked again.
    const verdict = mail.authenticated?.pass === true
      ? mail.authenticated
      : await inSpan('mailrun.authenticate', { 'mailrun.sender_auth': mailbox.senderAuth }, async () => await authenticateSender({
        policy: mailbox.senderAuth,
        raw: mail.rawIsOriginal ? mail.raw : null,
        fromDomain: from.domain,
        envelopeFrom: mail.envelopeFrom,
        client: mail.client ?? null,
        header,
        provider: mail.provider,
        trustedAuthservId: mailbox.trustedAuthservId
      }, deps.resolver))
    const base = { fromAddress: from.address, verdict }
    // No answer to an address that may be forged, and no sign that a robot exists to a stranger.
    if (!verdict.pass) return { ...base, status: 'rejected', reason: `sender authentication failed: ${verdict.detail}`, notReplied: { recipient: from.address, why: 'the sender could not be authenticated' } }

    const robotName = robotNameFromSubject(parsed.subject)
    const asksStatus = statusRequest(robotName)
    const asksCancel = cancelRequest(robotName)
    const asksForRobot = robotName !== '' && !isHelpRequest(robotName) && asksStatus === null && asksCancel === null
    const found = await senderAndRobot(mailbox.tenantId, from.spellings, asksForRobot ? robotNameKey(robotName) : null)
    if (found.sender_id === null) return { ...base, status: 'rejected', reason: 'unknown sender: not on the allow-list of this tenant', notReplied: { recipient: from.address, why: 'unknown sender' } }
    const senderId = found.sender_id
    if (found.sender_active !== true) return { ...base, senderId, status: 'rejected', reason: 'the sender is deactivated', notReplied: { recipient: from.address, why: 'the sender is deactivated' } }
    const suppress = header('x-auto-response-suppress')[0]
    const replyTo: ReplyTo = { to: from.address, name: from.name, subject: parsed.subject, messageId: parsed.messageId, references: parsed.references, ...(suppress !== undefined ? { suppress: `X-Auto-Response-Suppress: ${suppress}` } : {}) }
    // What the sender wrote: the text part, or the HTML part's rendering (phones, Apple Mail). A
    // known sender's subject and text are kept whatever the outcome, so the console shows what a
    // rejected command said; an unknown sender's are not.
    const text = messageText(parsed)
    const known = { ...base, senderId, replyTo, locale: found.locale, keepContent: { subject: parsed.subject.slice(0, 1000), body: clipped(text) } }
    const catalogue = async (): Promise<CatalogueEntry[]> => await catalogueFor(db, mailbox.tenantId, senderId)

    if (isHelpRequest(robotName)) return { ...known, status: 'accepted', reason: 'help requested', reply: { kind: 'help', catalogue: await catalogue() } }
    if (asksStatus !== null) return { ...known, status: 'accepted', reason: 'status requested', reply: { kind: 'status', report: await statusReport(db, mailbox.tenantId, senderId, asksStatus) } }
    const cancel = async (ref: LaunchRef, kill: boolean, reason: string): Promise<Decision> => {
      const outcome: CancelOutcome = deps.launcher?.cancel === undefined
        ? { outcome: 'not_found', ref: 'launchId' in ref ? ref.launchId : ref.text }
        : await deps.launcher.cancel({ tenantId: mailbox.tenantId, senderId, who: from.address, ref, kill })
      return { ...known, status: 'accepted', reason: `${reason}: ${outcome.outcome}`, reply: { kind: 'cancel', result: outcome } }
    }
    if (asksCancel !== null) return await cancel({ text: asksCancel.ref }, asksCancel.kill, 'cancel requested')
    const isReply = parsed.inReplyTo !== null || parsed.references.length > 0
    // A verb written as a reply in the thread of a launch: that launch (status falls back to the recent ones).
    const verb = isReply ? threadVerb(text) : null
    if (verb !== null) {
      const launchId = await launchInThread(db, mailbox.id, senderId, [parsed.inReplyTo, ...parsed.references])
      if (verb.verb === 'cancel') return await cancel(launchId !== null ? { launchId } : { text: '' }, verb.kill, 'cancel requested in a thread')
      const request = launchId !== null ? { which: 'one' as const, ref: launchId } : { which: 'recent' as const }
      return { ...known, status: 'accepted', reason: 'status requested in a thread', reply: { kind: 'status', report: await statusReport(db, mailbox.tenantId, senderId, request) } }
    }
    // "Thanks!" / "Спасибо!" in a thread asks for nothing: no launch, and no error email.
    if (isReply && writesNothing(text) && parsed.attachments.every((a) => a.inline)) return { ...known, status: 'ignored', reason: 'a reply with nothing to run in it (a thank-you or a signature only)' }
    if (robotName === '') {
      const problems: Problem[] = [problem('subject_empty')]
      return { ...known, status: 'rejected', reason: problems[0]?.message ?? '', problems, reply: { kind: 'rejected', robot: null, problems, catalogue: await catalogue() } }
    }
    if (found.robot_id === null) {
      const problems: Problem[] = [problem('no_such_robot', { robot: robotName }, { text: parsed.subject })]
      return { ...known, status: 'rejected', reason: `unknown robot "${robotName}"`, problems, reply: { kind: 'rejected', robot: null, problems, catalogue: await catalogue() } }
    }
    const robot = { id: found.robot_id, name: found.robot_name ?? '', parameters: found.parameters ?? [], functions: found.functions ?? [], invalidRows: found.invalid_rows ?? 'reject', extraColumns: found.extra_columns ?? 'ignore', escapeFormulas: found.escape_formulas ?? true }
    if (found.allow_all_senders !== true && found.allowed !== true) return { ...known, robotId: robot.id, status: 'rejected', reason: `not allowed to run "${robot.name}"`, reply: { kind: 'not_allowed', robot: robot.name, contact: found.contact_email } }
    const rejected = (problems: Problem[], ignored: string[] = []): Decision => {
      const entry = { name: robot.name, description: '', parameters: robot.parameters, functions: robot.functions }
      return { ...known, robotId: robot.id, status: 'rejected', reason: `the email has ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems, reply: { kind: 'rejected', robot: robot.name, problems, catalogue: [entry], ...(ignored.length > 0 ? { ignored } : {}) } }
    }
    // A queue robot's spreadsheet: its columns carry the declared parameters, so the body need not.
    const withRows = found.launch_mode === 'queue' && spreadsheetsOf(parsed.attachments).length > 0
    // With a spreadsheet the body is a note to a colleague ("December invoices attached"): only
    // its `name = value` lines are read, as values for every row; any other line is left alone.
    const { plan: read, problems, ignored } = readCommand(text, robot, { argumentsOnly: withRows })
    if (problems.length > 0) return rejected(problems, ignored)
    // The lines set aside as a greeting or a signature travel with the plan, so the reply says so.
    const plan = ignored.length > 0 && !withRows ? { ...read, ignored } : read
    const accepted: Decision = { ...known, robotId: robot.id, status: 'accepted', reason: null, plan }
    if (!withRows) {
      const policy = found.launch_mode === 'job' ? found.attachments : null
      if (policy === null || policy === undefined) return accepted
      const { files, problems: refused } = acceptFiles(parsed.attachments, policy)
      if (refused.length > 0) return rejected(refused)
      return files.length === 0 ? accepted : { ...accepted, files: { folder: policy.folder, accepted: files } }
    }
    const rows = await spreadsheetRows(mail.raw, parsed.attachments, robot, plan.arguments, deps.spreadsheets ?? defaultTableLimits)
    if (rows.kind === 'problems') return rejected(rows.problems)
    if (rows.kind === 'none') {
      // The .txt attached was a note, not a table: the body is the whole command.
      const full = readCommand(text, robot)
      if (full.problems.length > 0) return rejected(full.problems, full.ignored)
      return { ...accepted, plan: full.ignored.length > 0 ? { ...full.plan, ignored: full.ignored } : full.plan }
    }
    return { ...accepted, rows: { items: rows.items, skipped: rows.skipped }, ...(rows.skipped.rows > 0 ? { problems: rows.skipped.problems, reason: `${rows.skipped.rows} invalid row${rows.skipped.rows === 1 ? '' : 's'} left out` } : {}) }
  }

  /** Records the decision; an accepted command becomes a pending launch in the same transaction. */
  async function record (messageId: string, tenantId: string, mailboxId: string, decision: Decision): Promise<{ decided: boolean, launchId: string | null, launching?: Promise<LaunchOutcome> }> {
    // Only what is needed to see what happened is kept: no raw bytes, and subject and body only
    // from known senders ("delete what was read" for everyone else).
    const outcome = {
      status: decision.status,
      reason: decision.reason,
      problems: JSON.stringify(decision.problems ?? []),
      from_address: decision.fromAddress ?? null,
      sender_id: decision.senderId ?? null,
      robot_id: decision.robotId ?? null,
      auth_verdict: decision.verdict !== undefined ? JSON.stringify(decision.verdict) : null,
      subject: decision.keepContent?.subject ?? null,
      body: decision.keepContent?.body ?? null,
      reply_to: decision.replyTo !== undefined ? JSON.stringify(decision.replyTo) : null,
      // The raw copy goes, unless the launch still has attachments to upload from it, or the
      // message was refused: then it stays (in the row, never in a spool) for the replay window
      // (MAILRUN_REPLAY_HOURS), so an admin can decide it again once the sender or robot is fixed.
      ...(decision.files !== undefined ? {} : decision.status === 'rejected' ? { raw_spool: null, raw_chunks: null } : { raw: null, raw_spool: null, raw_chunks: null }),
      processed_at: new Date()
    }
    const plan = decision.plan
    const launch: NewLaunch | null = plan === undefined
      ? null
      : {
          messageId,
          message: outcome,
          launch: {
            tenantId,
            robotId: decision.robotId ?? null,
            senderId: decision.senderId ?? null,
            plan: JSON.stringify(plan),
            // The door attempts this launch itself, by id, right after this; the queue takes it only
            // if that never happens (the process stopped), so the two do not race.
            nextAttemptAt: new Date(Date.now() + QUEUE_GRACE_MS)
          },
          rows: decision.rows
        }

    // The message's outcome, and for an accepted command the pending launch and its first history
    // line, in one statement (atomic on its own); inside a transaction only when a reply or a
    // "not replied" record must be written with it.
    // Only a message still undecided is decided: two deciders of one message (a door whose answer
    // was lost and recovery, say) record one outcome and one launch between them.
    const storeOutcome = async (executor: Kysely<Database>): Promise<{ decided: boolean, launchId: string | null }> => {
      if (launch === null) {
        const updated = await executor.updateTable('messages').set(outcome).where('id', '=', messageId).where('status', '=', 'received').executeTakeFirst()
        return { decided: Number(updated.numUpdatedRows) > 0, launchId: null }
      }
      const row = await writeDecidedLaunch(executor, launch, null).selectFrom('launch_events').select('launch_id').executeTakeFirst()
      return { decided: row !== undefined, launchId: row?.launch_id ?? null }
    }
    const files = decision.files
    if (decision.reply === undefined && decision.notReplied === undefined && files === undefined) {
      // The launcher records the decision and takes the launch in the same statement.
      const decideAndLaunch = deps.launcher?.decideAndLaunch
      if (launch !== null && decideAndLaunch !== undefined) {
        // The launch's span holds the attempt (StartJobs) from the claim to its outcome.
        const taken = await new Promise<Awaited<ReturnType<typeof decideAndLaunch>>>((resolve, reject) => {
          inSpan('mailrun.launch', {}, async () => {
            const started = await decideAndLaunch(launch)
            resolve(started)
            if (started !== null) await started.outcome
          }).catch(reject)
        })
        return taken === null ? { decided: false, launchId: null } : { decided: true, launchId: taken.launchId, launching: taken.outcome }
      }
      return await storeOutcome(db)
    }

    let replyQueued = false
    const stored = await db.transaction().execute(async (trx) => {
      const outcome = await storeOutcome(trx)
      // Decided by someone else meanwhile: their reply and files stand, not a second set.
      if (!outcome.decided) return outcome
      const id = outcome.launchId
      if (id !== null && files !== undefined) {
        await trx.insertInto('launch_files').values(files.accepted.map((f, ordinal) => ({
          launch_id: id,
          ordinal,
          tenant_id: tenantId,
          attachment_index: f.index,
          name: f.name,
          content_type: f.contentType,
          size_bytes: f.size,
          bucket_path: [files.folder, id, f.name].filter((part) => part !== '').join('/')
        }))).execute()
      }
      if (decision.reply !== undefined && decision.replyTo !== undefined) {
        const queued = await queueReply(trx, { tenantId, mailboxId, messageId, launchId: null, replyTo: decision.replyTo, locale: decision.locale ?? 'en' }, decision.reply, deps.replies)
        if (queued === 'queued') replyQueued = true
      } else if (decision.notReplied !== undefined) {
        await recordNotReplied(trx, { tenantId, mailboxId, messageId, launchId: null, recipient: decision.notReplied.recipient }, 'none', decision.notReplied.why)
      }
      return outcome
    })
    if (replyQueued) deps.onReplyQueued?.()
    return stored
  }

  /** The decision with its problems and reason bounded: they go to the door's answer, the database and the reply. */
  function bounded (decision: Decision): Decision {
    const reply = decision.reply?.kind === 'rejected' ? { ...decision.reply, problems: boundProblems(decision.reply.problems) } : decision.reply
    return {
      ...decision,
      reason: decision.reason === null ? null : clip(decision.reason, 1000),
      ...(decision.problems !== undefined ? { problems: boundProblems(decision.problems) } : {}),
      ...(reply !== undefined ? { reply } : {})
    }
  }

  async function finish (messageId: string, mailbox: TargetMailbox, unbounded: Decision, door: string, place: RawPlace): Promise<ReceiveResult> {
    const decision = bounded(unbounded)
    const { decided, launchId, launching } = await record(messageId, mailbox.tenantId, mailbox.id, decision)
    if (!decided) {
      // Another decider (recovery, or a replica that met this message at the same moment) recorded
      // it first: theirs stands, and this delivery — the one that stored it — answers with it, as
      // if it had decided (it is no duplicate: the other delivery is).
      const other = await db.selectFrom('messages').leftJoin('launches', 'launches.message_id', 'messages.id')
        .select(['messages.status', 'messages.reason', 'launches.id as launch_id', 'launches.state', 'launches.job_id', 'launches.job_key', 'launches.last_error'])
        .where('messages.id', '=', messageId).executeTakeFirst()
      if (other === undefined || other.status === 'received') return { message: messageId, status: 'duplicate', reason: 'already being decided' }
      const result: ReceiveResult = { message: messageId, status: other.status as ReceiveResult['status'] }
      if (other.reason !== null) result.reason = other.reason
      if (other.launch_id !== null) {
        const state = other.state === 'pending' && other.last_error !== null ? 'retrying' : other.state ?? 'pending'
        result.launch = { id: other.launch_id, state, jobId: other.job_id, jobKey: other.job_key, ...(other.last_error !== null ? { reason: other.last_error } : {}) }
      }
      return result
    }
    if (decision.files === undefined) await dropRaw(messageId, place)
    deps.metrics.messages.inc({ door, status: decision.status })
    const result: ReceiveResult = { message: messageId, status: decision.status as ReceiveResult['status'] }
    if (decision.reason !== null) result.reason = decision.reason
    if (decision.problems !== undefined && decision.problems.length > 0) result.problems = decision.problems
    if (launchId !== null) {
      const launcher = deps.launcher
      result.launch = launcher === undefined
        ? { id: launchId, state: 'pending' }
        : launching !== undefined ? await launching : await inSpan('mailrun.launch', {}, async () => await launcher.launch(launchId))
    }
    return result
  }

  /** Messages stored at the same time go in one statement: each answers its own id, or undefined when it was already there. */
  const storeMessage = createBatcher<NewMessage, { id: string } | undefined>({
    maxItems: 200,
    runOne: async (values) => await insertMessage(db, values),
    run: async (batch) => await insertMessages(db, batch)
  })

  async function loadMailbox (id: string): Promise<TargetMailbox> {
    const row = await db.selectFrom('mailboxes').select(['id', 'tenant_id', 'address', 'active', 'sender_auth', 'trusted_authserv_id']).where('id', '=', id).executeTakeFirstOrThrow()
    return { id: row.id, tenantId: row.tenant_id, address: row.address, active: row.active, senderAuth: row.sender_auth, trustedAuthservId: row.trusted_authserv_id }
  }

  const receiver: Receiver = {
    async receive (mailbox, delivered, afterStore) {
      // mailrun's own test email (the canary) is recorded as found and goes no further.
      const canary = readCanaryHeader(delivered.raw)
      if (canary !== null && await detectCanary(db, mailbox.id, canary, delivered.door)) return { message: canary.id, status: 'ignored', reason: 'canary' }
      const key = await dedupeKey(delivered.raw)
      const mail = delivered.trace !== undefined ? { ...delivered, raw: Buffer.concat([delivered.trace, delivered.raw]) } : delivered
      // Stored before anything else happens: a crash after this line loses nothing, and a second
      // delivery of the same message (provider retry, IMAP sweep, another replica) stops here.
      // A large message goes to a synced spool file first where there is a data directory (the row
      // names it), and otherwise to chunk rows inserted with the row.
      const large = mail.raw.length >= SPOOL_MIN_BYTES
      const spooled = deps.spool !== undefined && large ? await deps.spool.write(mail.raw) : null
      const place: RawPlace = { spool: spooled, chunked: large && spooled === null }
      const values = {
        tenant_id: mailbox.tenantId,
        mailbox_id: mailbox.id,
        door: mail.door,
        dedupe_key: key,
        message_id_header: key.startsWith('<') ? key : null,
        raw: large ? null : mail.raw,
        raw_spool: spooled,
        raw_chunks: place.chunked ? chunkCount(mail.raw.length) : null,
        raw_sha256: await sha256Hex(mail.raw),
        size_bytes: mail.raw.length,
        // What deciding needs besides the bytes, the mailbox's policy included: a message decided
        // late (after a crash, or a retry) is judged by the rules in force when it arrived.
        auth_verdict: JSON.stringify({ rawIsOriginal: mail.rawIsOriginal, envelopeFrom: mail.envelopeFrom, provider: mail.provider, client: mail.client ?? null, senderAuth: mailbox.senderAuth, trustedAuthservId: mailbox.trustedAuthservId }),
        imap_folder: mail.imap?.folder ?? null,
        internal_date: mail.imap?.internalDate ?? null,
        detection_latency_ms: mail.imap !== undefined ? Math.max(0, Date.now() - mail.imap.internalDate.getTime()) : null
      }
      // One statement is atomic on its own (and goes with the others arriving meanwhile); a
      // transaction only when the door has more to store with it.
      let stored: { id: string } | undefined
      try {
        stored = await inSpan('mailrun.store', { 'mailrun.size_bytes': mail.raw.length }, async () => afterStore === undefined && !place.chunked
          ? await storeMessage(values)
          : await db.transaction().execute(async (trx) => {
            const row = await insertMessage(trx, values)
            if (row !== undefined && place.chunked) await writeChunks(trx, row.id, mail.raw)
            if (row !== undefined) await afterStore?.(trx, row.id)
            return row
          }))
      } catch (error) {
        await dropSpooled(spooled)
        throw error
      }
      if (stored === undefined) {
        await dropSpooled(spooled)
        const existing = await db.selectFrom('messages').select(['id', 'status']).where('mailbox_id', '=', mailbox.id).where('dedupe_key', '=', key).executeTakeFirstOrThrow()
        // Stored by an earlier delivery whose answer was lost (the database went away after the
        // insert committed), so never decided: recovery takes it at once. Should that first door
        // still be deciding it, only one of the two records an outcome (record() above).
        if (existing.status === 'received') stranded.add(existing.id)
        deps.metrics.messages.inc({ door: mail.door, status: 'duplicate' })
        return { message: existing.id, status: 'duplicate', reason: 'this message was already received' }
      }
      try {
        const decision = await inSpan('mailrun.decide', {}, async () => await decide(mailbox, mail))
        deps.logger.info({ messageId: stored.id, mailbox: mailbox.id, door: mail.door, status: decision.status, reason: decision.reason }, 'message received')
        return await finish(stored.id, mailbox, decision, mail.door, place)
      } catch (error) {
        // The message is stored: the provider must not retry. Recovery decides it later, with a
        // backoff of its own (a database that is away now may not record even this).
        deps.logger.error({ err: error, messageId: stored.id }, 'message stored but not yet decided; recovery will finish it')
        stranded.add(stored.id)
        await noteFailure(stored.id, error).catch(() => {})
        return { message: stored.id, status: 'accepted', reason: 'stored; it will be processed shortly' }
      }
    },

    /** Finishes a message stored but never decided (the process stopped in between). */
    async processStored (messageId) {
      const row = await db.selectFrom('messages').select(['id', 'mailbox_id', 'door', 'raw', 'raw_spool', 'raw_chunks', 'auth_verdict', 'status']).where('id', '=', messageId).executeTakeFirst()
      if (row === undefined) {
        stranded.delete(messageId)
        return { message: messageId, status: 'duplicate', reason: 'the message is gone' }
      }
      if (row.status !== 'received' && stranded.has(messageId)) {
        // Decided here before the database went away, but the answer was lost, so this process
        // never attempted its launch: the queue takes it now instead of after the door's grace.
        await db.updateTable('launches').set({ next_attempt_at: new Date() }).where('message_id', '=', messageId).where('state', '=', 'pending').execute()
        stranded.delete(messageId)
      }
      if (row.status !== 'received' || (row.raw === null && row.raw_spool === null && row.raw_chunks === null)) return { message: row.id, status: 'duplicate', reason: 'already processed' }
      if (row.raw_spool !== null && deps.spool === undefined) throw new Error('the message waits in a spool file, but this process has no spool (is it running on another database?)')
      const raw = row.raw !== null
        ? Buffer.from(row.raw)
        : row.raw_chunks !== null ? await readChunks(db, row.id, row.raw_chunks) : await (deps.spool as RawSpool).read(row.raw_spool ?? '')
      const current = await loadMailbox(row.mailbox_id)
      const saved = (row.auth_verdict ?? {}) as { rawIsOriginal?: boolean, envelopeFrom?: string | null, provider?: InboundMail['provider'], client?: SmtpClient | null, senderAuth?: TargetMailbox['senderAuth'], trustedAuthservId?: string | null, replayOf?: AuthVerdict | null }
      // Messages stored before the policy was kept with them are decided with today's.
      // A replay is decided under today's settings (it carries no policy of its own).
      const mailbox: TargetMailbox = { ...current, senderAuth: saved.senderAuth ?? current.senderAuth, trustedAuthservId: saved.trustedAuthservId !== undefined ? saved.trustedAuthservId : current.trustedAuthservId }
      const decision = await inSpan('mailrun.decide', {}, async () => await decide(mailbox, { raw, rawIsOriginal: saved.rawIsOriginal ?? true, envelopeFrom: saved.envelopeFrom ?? null, provider: saved.provider ?? null, client: saved.client ?? null, ...(saved.replayOf != null ? { authenticated: saved.replayOf } : {}) }))
      const result = await finish(row.id, mailbox, decision, row.door, { spool: row.raw_spool, chunked: row.raw_chunks !== null })
      stranded.delete(messageId)
      return result
    },

    noteFailure,
    stranded: () => [...stranded]
  }
  // One trace per message: the door's delivery, or a stored message finished later, is its root.
  const { receive, processStored } = receiver
  receiver.receive = async (mailbox, delivered, afterStore) => await inSpan('mailrun.message', { 'mailrun.door': delivered.door }, async () => await receive(mailbox, delivered, afterStore))
  receiver.processStored = async (messageId) => await inSpan('mailrun.message', { 'mailrun.recovered': true }, async () => await processStored(messageId))
  return receiver
}
