import type { ImapFlow } from 'imapflow'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import { stepWithin as withTimeout } from '../async/with-timeout.js'
import { changesMailbox } from './after-processing.js'
import { folderNotify, offersNotify, type FolderStatus } from './folder-notify.js'
import { sweepFolder, type Cursors, type SweepContext } from './sweep-folder.js'

// One IMAP connection to one mailbox, from the first sweep until the connection ends or the
// watcher is stopped. Two ways to hear about new mail:
// - INBOX stays selected in IDLE, entered again right after each command so mail arriving just
//   after a sweep is not left waiting for imapflow's auto-IDLE delay;
// - the other folders (Junk, extras): where the server offers NOTIFY it reports new mail in each
//   with an unsolicited STATUS naming it; where it does not, each gets a STATUS
//   (the quiet-folder check, no database work) every `quietCheckMs`.
// Either way every folder is swept in full every `intervalMs`: the safety net under the reports.

export interface SessionDeps {
  db: Kysely<Database>
  mailboxId: string
  client: ImapFlow
  /** Folders to sweep (INBOX first) and the name the server lists each by. */
  folders: Array<{ path: string, listed: string }>
  ctx: SweepContext
  intervalMs: number
  quietCheckMs: number
  /** True once the session should end: the watcher was stopped or the connection dropped. */
  ended: () => boolean
  /** Waits until `wake` is called or `ms` pass. */
  sleep: (ms: number) => Promise<void>
  wake: () => void
  /** Called after every full sweep: the mailbox's "last swept" moment. */
  swept: () => void
}

/** How the session is watching: which reporting path it took. */
export type WatchMode = 'notify' | 'idle'

export async function runSession (deps: SessionDeps, onMode?: (mode: WatchMode) => void): Promise<void> {
  const { client, ctx, db, mailboxId } = deps
  const cursors: Cursors = new Map()
  // Folders the server reported news for, with what it said (null: EXISTS, no numbers).
  const reported = new Map<string, FolderStatus | null>()
  const report = (folder: string, status: FolderStatus | null): void => { reported.set(folder, status); deps.wake() }
  client.on('exists', (event: { path: string }) => { report(event.path, null) })

  const sweepOne = async (folder: string, known?: FolderStatus | null): Promise<void> => {
    await withTimeout(sweepFolder(client, folder, ctx, cursors, known), 5 * 60_000, `sweeping ${folder}`)
  }
  const heartbeat = async (): Promise<void> => {
    deps.swept()
    await db.updateTable('mailboxes').set({ imap_last_swept_at: new Date() }).where('id', '=', mailboxId).execute()
  }

  // INBOX is selected first and stays selected (in IDLE between commands): its news come as
  // EXISTS. NOTIFY names only the other folders: Dovecot 2.3 was seen to stop reporting them when
  // INBOX was both listed and selected, and to report INBOX itself unreliably (it keeps INBOX out
  // of its folder list index by default).
  await withTimeout(client.mailboxOpen('INBOX', { readOnly: !changesMailbox(ctx.after) }), 30_000, 'opening INBOX')
  const others = deps.folders.filter((f) => f.path !== 'INBOX')
  let notify = others.length > 0 && offersNotify(client)
    ? folderNotify(client, new Map(others.map((f) => [f.listed, f.path])), (folder, status) => { report(folder, status) })
    : null
  if (notify !== null) {
    try {
      await withTimeout(notify.start(), 30_000, 'NOTIFY')
    } catch (error) {
      // A server that lists NOTIFY but refuses this request (too many folders, say) is polled.
      if (!client.usable) throw error
      notify = null
    }
  }
  onMode?.(notify !== null ? 'notify' : 'idle')

  // Folders other than INBOX opened since INBOX last was. Mail that reached one while it was open
  // is told by EXISTS only if the server says so before the next folder is opened, and NOTIFY's
  // STATUS covers what arrives once it is closed: Dovecot under load was seen to tell neither, and
  // the message waited for the full sweep. So each is asked its STATUS once INBOX is open again.
  const left = new Set<string>()
  client.on('mailboxOpen', (box: { path: string }) => { if (box.path !== 'INBOX') left.add(box.path) })
  const hasNews = (folder: string, status: FolderStatus): boolean => {
    const cursor = cursors.get(folder)
    return cursor === undefined || (status.uidNext ?? 0) > cursor.lastUid + 1 || (status.uidValidity ?? cursor.uidvalidity) !== cursor.uidvalidity
  }

  /** Back on INBOX after another folder was opened, swept again if it moved meanwhile; then IDLE. */
  const backToInbox = async (): Promise<void> => {
    if (client.mailbox === false || client.mailbox.path !== 'INBOX') {
      const box = await withTimeout(client.mailboxOpen('INBOX', { readOnly: !changesMailbox(ctx.after) }), 30_000, 'opening INBOX')
      if (hasNews('INBOX', { uidNext: Number(box.uidNext), uidValidity: Number(box.uidValidity) })) await sweepOne('INBOX', null)
    }
    for (const folder of [...left]) {
      left.delete(folder)
      if (notify === null) continue
      const status = await withTimeout(notify.status(folder), 30_000, `STATUS ${folder}`)
      if (hasNews(folder, status)) report(folder, status)
    }
    // Not awaited: it ends when the next command starts (imapflow sends DONE first).
    client.idle().catch(() => {})
  }

  const fullSweep = async (): Promise<void> => {
    // INBOX is opened again rather than asked for its STATUS: under NOTIFY an unsolicited STATUS
    // of another folder could arrive in the middle of that command and be read as INBOX's.
    await sweepOne('INBOX', null)
    for (const { path } of others) {
      reported.delete(path)
      await sweepOne(path, notify !== null ? await withTimeout(notify.status(path), 30_000, `STATUS ${path}`) : undefined)
    }
    await backToInbox()
    await heartbeat()
  }

  const sweepReported = async (): Promise<void> => {
    while (reported.size > 0 && !deps.ended()) {
      const [folder, status] = reported.entries().next().value as [string, FolderStatus | null]
      reported.delete(folder)
      await sweepOne(folder, folder === 'INBOX' ? null : status)
    }
    await backToInbox()
  }

  const quietCheck = async (): Promise<void> => {
    for (const { path } of others) await sweepOne(path)
    await backToInbox()
  }

  await fullSweep()
  let nextFull = Date.now() + deps.intervalMs
  let nextQuiet = notify === null ? Date.now() + deps.quietCheckMs : Infinity
  while (!deps.ended()) {
    if (reported.size === 0) await deps.sleep(Math.max(0, Math.min(nextFull, nextQuiet) - Date.now()))
    if (deps.ended()) break
    if (reported.size > 0) await sweepReported()
    if (Date.now() >= nextFull) {
      await fullSweep()
      nextFull = Date.now() + deps.intervalMs
      if (notify === null) nextQuiet = Date.now() + deps.quietCheckMs
    } else if (Date.now() >= nextQuiet) {
      await quietCheck()
      nextQuiet = Date.now() + deps.quietCheckMs
    }
  }
}
