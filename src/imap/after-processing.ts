import type { ImapFlow } from 'imapflow'
import type { ImapSettings } from '../db/schema.js'
import { fieldError } from '../errors.js'

// What the sweep does with a message once mailrun has stored and decided it: nothing (the default:
// the sweep only reads), flag it \Seen, or move it out of the way (refused mail to its own folder
// when one is named). Done only after the decision is recorded, so a failure here loses nothing:
// the message stays where it was, and the dedupe key keeps a second look from launching again.

export const DEFAULT_PROCESSED_FOLDER = 'Processed'

type Choice = Pick<ImapSettings, 'afterProcessing' | 'processedFolder' | 'rejectedFolder'>

/** The settings' afterProcessing part from what an admin sent, refused by field when it cannot work. */
export function afterProcessingOf (input: Choice & { folders?: string[] | undefined }): Choice {
  const mode = input.afterProcessing ?? 'leave'
  if (mode !== 'move') {
    for (const field of ['processedFolder', 'rejectedFolder'] as const) {
      if (input[field] !== undefined && input[field] !== null) throw fieldError(`imap.${field}`, 'is used only with afterProcessing move: set afterProcessing to move, or leave it out')
    }
    return mode === 'leave' ? {} : { afterProcessing: mode }
  }
  const processed = (input.processedFolder ?? DEFAULT_PROCESSED_FOLDER).trim()
  const rejected = input.rejectedFolder === undefined || input.rejectedFolder === null ? null : input.rejectedFolder.trim()
  const swept = new Set(['inbox', ...(input.folders ?? []).map((f) => f.toLowerCase())])
  for (const [field, folder] of [['processedFolder', processed], ['rejectedFolder', rejected]] as const) {
    if (folder !== null && swept.has(folder.toLowerCase())) throw fieldError(`imap.${field}`, `"${folder}" is a folder the sweep reads for new mail: choose another`)
  }
  return { afterProcessing: 'move', processedFolder: processed, rejectedFolder: rejected }
}

/** Whether the sweep opens folders for writing (it flags or moves). */
export const changesMailbox = (settings: Choice): boolean => (settings.afterProcessing ?? 'leave') !== 'leave'

/** Flags or moves one message (by UID, in the open folder) after its decision; `created` remembers folders made in this session. */
export async function afterDecision (client: ImapFlow, uid: number, refused: boolean, settings: Choice, created: Set<string>): Promise<void> {
  const mode = settings.afterProcessing ?? 'leave'
  if (mode === 'leave') return
  if (mode === 'seen') {
    await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true })
    return
  }
  const target = refused && settings.rejectedFolder !== undefined && settings.rejectedFolder !== null ? settings.rejectedFolder : (settings.processedFolder ?? DEFAULT_PROCESSED_FOLDER)
  if (!created.has(target)) {
    // imapflow answers an existing folder with { created: false } rather than an error.
    await client.mailboxCreate(target)
    created.add(target)
  }
  const moved = await client.messageMove(String(uid), target, { uid: true })
  if (moved === false) throw new Error(`the server did not move message ${uid} to "${target}"`)
}
