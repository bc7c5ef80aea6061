import type { Kysely } from 'kysely'
import type { ImapFlow } from 'imapflow'
import type { Logger } from 'pino'
import type { Database, ImapSettings } from '../db/schema.js'
import { afterDecision, changesMailbox } from './after-processing.js'
import type { TargetMailbox } from '../pipeline/inbound-mail.js'
import type { Receiver } from '../pipeline/receive.js'
import type { FolderStatus } from './folder-notify.js'

export interface SweepContext {
  db: Kysely<Database>
  receiver: Receiver
  mailbox: TargetMailbox
  /** Mail received before this moment is history, never replayed (IMAP settings saved minus the look-back). */
  notBefore: Date
  /** What is done with a message once it is decided (imap.afterProcessing), and the folders made for it this session. */
  after: Pick<ImapSettings, 'afterProcessing' | 'processedFolder' | 'rejectedFolder'>
  created: Set<string>
  logger: Logger
}

/**
 * Folders that can hold new mail: INBOX, the \Junk folder (by its special-use flag), and extras;
 * each with its name as the server lists it (NOTIFY names folders that way).
 */
export async function foldersToSweep (client: ImapFlow, extra: string[]): Promise<Array<{ path: string, listed: string }>> {
  const list = await client.list()
  const listed = new Map(list.map((f) => [f.path, f.pathAsListed ?? f.path]))
  const junk = list.filter((f) => f.specialUse === '\\Junk').map((f) => f.path)
  const paths = [...new Set(['INBOX', ...junk, ...extra.filter((f) => listed.has(f))])]
  return paths.map((path) => ({ path, listed: listed.get(path) ?? path }))
}

async function setCursor (db: Kysely<Database>, mailboxId: string, folder: string, uidvalidity: number, lastUid: number): Promise<void> {
  await db.insertInto('imap_cursors').values({ mailbox_id: mailboxId, folder, uidvalidity, last_uid: lastUid, last_swept_at: new Date() })
    .onConflict((oc) => oc.columns(['mailbox_id', 'folder']).doUpdateSet({ uidvalidity, last_uid: lastUid, last_swept_at: new Date() })).execute()
}

/** Where a folder was swept to; kept by the worker that holds the mailbox's lease between sweeps. */
export interface FolderCursor { uidvalidity: number, lastUid: number }
export type Cursors = Map<string, FolderCursor>

/**
 * Stores every message of the folder past its cursor, oldest first, and advances the cursor past
 * each one only once it is stored. Never relies on \Seen; changes the mailbox only when
 * imap.afterProcessing says so (flag or move, after the decision), else opens folders read-only.
 * A folder with nothing new costs one STATUS and no database work: that is every sweep of every
 * quiet mailbox. `known` is a STATUS the server already sent (IMAP NOTIFY) in place of asking
 * again; `null` opens the folder without asking (the selected folder, whose news come as EXISTS).
 * Answers how many messages were handed to the pipeline.
 */
export async function sweepFolder (client: ImapFlow, folder: string, ctx: SweepContext, cursors: Cursors, known?: FolderStatus | null): Promise<number> {
  const { db, mailbox } = ctx
  let cursor = cursors.get(folder)
  if (cursor === undefined) {
    const row = await db.selectFrom('imap_cursors').select(['uidvalidity', 'last_uid']).where('mailbox_id', '=', mailbox.id).where('folder', '=', folder).executeTakeFirst()
    if (row !== undefined) cursors.set(folder, cursor = { uidvalidity: row.uidvalidity, lastUid: row.last_uid })
  }
  const status = known !== undefined ? known : await client.status(folder, { messages: true, uidNext: true, uidValidity: true })
  // A NOTIFY report of new mail may leave UIDVALIDITY out: the folder's own is assumed, and the
  // periodic full check (which has it) catches a renumbered folder.
  if (status !== null && status !== false && cursor !== undefined && cursor.uidvalidity === Number(status.uidValidity ?? cursor.uidvalidity) &&
    (status.messages === 0 || (status.uidNext !== undefined && Number(status.uidNext) <= cursor.lastUid + 1))) return 0

  const advance = async (uidvalidity: number, lastUid: number): Promise<void> => {
    await setCursor(db, mailbox.id, folder, uidvalidity, lastUid)
    cursors.set(folder, { uidvalidity, lastUid })
  }
  const box = await client.mailboxOpen(folder, { readOnly: !changesMailbox(ctx.after) })
  const uidvalidity = Number(box.uidValidity)
  let lastUid: number
  let notBefore: Date | null = null
  if (cursor === undefined || cursor.uidvalidity !== uidvalidity) {
    // First sight, or the server renumbered the folder: take it from the configured moment on.
    // Messages seen before under the old numbering are recognised by the dedupe key.
    notBefore = ctx.notBefore
    const day = new Date(Date.UTC(notBefore.getUTCFullYear(), notBefore.getUTCMonth(), notBefore.getUTCDate() - 1))
    const candidates = box.exists === 0 ? [] : ((await client.search({ since: day }, { uid: true })) || [])
    lastUid = candidates.length > 0 ? Math.min(...candidates) - 1 : Math.max(0, Number(box.uidNext) - 1)
    await advance(uidvalidity, lastUid)
  } else {
    lastUid = cursor.lastUid
  }
  // Every message the folder holds now has a UID up to `top`: one past the cursor that is not
  // there was expunged, and the cursor passes it, so UIDNEXT does not keep saying there is news.
  const top = Number(box.uidNext) - 1
  if (box.exists === 0 || top <= lastUid) {
    if (top > lastUid) await advance(uidvalidity, top)
    return 0
  }
  const found: Array<{ uid: number, internalDate: Date }> = []
  for await (const message of client.fetch(`${lastUid + 1}:*`, { uid: true, internalDate: true }, { uid: true })) {
    if (message.uid > lastUid) found.push({ uid: message.uid, internalDate: new Date(message.internalDate ?? Date.now()) })
  }
  let handed = 0
  for (const { uid, internalDate } of found.sort((a, b) => a.uid - b.uid)) {
    if (notBefore === null || internalDate >= notBefore) {
      const message = await client.fetchOne(String(uid), { source: true }, { uid: true })
      if (message !== false && message.source !== undefined) {
        const result = await ctx.receiver.receive(mailbox, { door: 'imap', raw: message.source, rawIsOriginal: true, envelopeFrom: null, provider: null, imap: { folder, internalDate } })
        handed++
        try {
          await afterDecision(client, uid, result.status === 'rejected' || result.status === 'ignored', ctx.after, ctx.created)
        } catch (error) {
          // Stored and decided: left where it is, which loses nothing; the sweep goes on.
          if (!client.usable) throw error
          ctx.logger.warn({ mailboxId: mailbox.id, folder, uid, err: error }, 'could not flag or move a handled message (imap.afterProcessing)')
        }
      }
    }
    await advance(uidvalidity, lastUid = uid)
  }
  if (top > lastUid) await advance(uidvalidity, top)
  return handed
}
