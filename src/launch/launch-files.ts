import type { Kysely, Selectable } from 'kysely'
import type { Logger } from 'pino'
import type { AttachmentPolicy, Database, LaunchFilesTable } from '../db/schema.js'
import { parseWithAttachments } from '../mail/parse-message.js'
import type { OrchestratorClient } from '../orchestrator/client.js'
import { deleteFromBucket, findBucket, uploadToBucket } from '../orchestrator/buckets.js'
import { dropChunks, readChunks } from '../pipeline/raw-chunks.js'
import type { RawSpool } from '../pipeline/raw-spool.js'

// The attachments a job receives: uploaded to the robot's storage bucket before StartJobs, from
// the message's raw copy, which is kept for this launch until then (store first: an acknowledged
// email's files survive a crash like its text). An upload is a PUT to a path of its own, so a retry
// sends again only what is not marked uploaded, and sending one twice overwrites it with itself.

export type LaunchFile = Selectable<LaunchFilesTable>

export interface FileDeps { db: Kysely<Database>, spool?: RawSpool, logger: Logger, uploadTimeoutMs: number }

/** A file that cannot be placed whatever the retries: the launch fails with this reason. */
export class FilesRefused extends Error {}

/** The value of in_Attachments: what the job finds in the bucket. */
export function attachmentsArgument (files: LaunchFile[], bucket: string): string {
  return JSON.stringify(files.map((f) => ({ name: f.name, bucket, path: f.bucket_path, size: f.size_bytes, contentType: f.content_type })))
}

async function rawOf (deps: FileDeps, messageId: string): Promise<Buffer> {
  const row = await deps.db.selectFrom('messages').select(['raw', 'raw_chunks', 'raw_spool']).where('id', '=', messageId).executeTakeFirstOrThrow()
  if (row.raw !== null) return Buffer.from(row.raw)
  if (row.raw_chunks !== null) return await readChunks(deps.db, messageId, row.raw_chunks)
  if (row.raw_spool !== null && deps.spool !== undefined) return await deps.spool.read(row.raw_spool)
  throw new FilesRefused('the email\'s attachments are no longer stored, so they cannot be uploaded')
}

async function bucketId (client: OrchestratorClient, folderId: number, folderName: string, policy: AttachmentPolicy): Promise<number> {
  const bucket = await findBucket(client, folderId, policy.bucket)
  if (bucket === null) throw new FilesRefused(`storage bucket "${policy.bucket}" was not found in folder "${folderName}" (or these credentials cannot see it)`)
  return bucket.Id
}

export async function uploadFiles (deps: FileDeps, client: OrchestratorClient, launch: { id: string, message_id: string }, files: LaunchFile[], target: { folderId: number, folderName: string, policy: AttachmentPolicy }): Promise<void> {
  const waiting = files.filter((f) => f.uploaded_at === null)
  if (waiting.length === 0) return
  const id = await bucketId(client, target.folderId, target.folderName, target.policy)
  const raw = await rawOf(deps, launch.message_id)
  const wanted = new Set(waiting.map((f) => f.attachment_index))
  const { kept } = await parseWithAttachments(raw, { wanted: (a) => wanted.has(a.index), maxBytes: raw.length })
  for (const file of waiting) {
    const content = kept.find((a) => a.index === file.attachment_index)?.content
    if (content === undefined) throw new FilesRefused(`the attachment ${file.name} could not be read back from the stored email`)
    await uploadToBucket(client, target.folderId, id, { path: file.bucket_path, contentType: file.content_type, content }, deps.uploadTimeoutMs)
    await deps.db.updateTable('launch_files').set({ uploaded_at: new Date() }).where('launch_id', '=', launch.id).where('ordinal', '=', file.ordinal).execute()
  }
}

/** The files' content, read back from the stored email (a robot on an HTTP target gets them in its request). */
export async function readFiles (deps: FileDeps, messageId: string, files: LaunchFile[]): Promise<Array<{ name: string, contentType: string, size: number, content: Buffer }>> {
  if (files.length === 0) return []
  const raw = await rawOf(deps, messageId)
  const wanted = new Set(files.map((f) => f.attachment_index))
  const { kept } = await parseWithAttachments(raw, { wanted: (a) => wanted.has(a.index), maxBytes: raw.length })
  return files.map((file) => {
    const content = kept.find((a) => a.index === file.attachment_index)?.content
    if (content === undefined) throw new FilesRefused(`the attachment ${file.name} could not be read back from the stored email`)
    return { name: file.name, contentType: file.content_type, size: file.size_bytes, content }
  })
}

/**
 * The raw copy was kept only for the uploads: gone once they are done, given up or cancelled.
 * Without the spool at hand, its file goes at the spool's next sweep (no message names it then).
 */
export async function releaseRaw (deps: { db: Kysely<Database>, spool?: RawSpool }, messageId: string): Promise<void> {
  const row = await deps.db.selectFrom('messages').select(['raw_spool', 'raw_chunks']).where('id', '=', messageId).executeTakeFirst()
  await deps.db.updateTable('messages').set({ raw: null, raw_chunks: null, raw_spool: null }).where('id', '=', messageId).execute()
  if (row?.raw_chunks !== null && row?.raw_chunks !== undefined) await dropChunks(deps.db, messageId).catch(() => {})
  if (row?.raw_spool !== null && row?.raw_spool !== undefined) await deps.spool?.remove(row.raw_spool).catch(() => {})
}

/** A launch that gave up: what it had uploaded is deleted (best effort; a leftover is logged). */
export async function discardFiles (deps: { db: Kysely<Database>, logger?: Logger }, client: OrchestratorClient | null, launchId: string, target: { folderId: number, folderName: string, policy: AttachmentPolicy } | null): Promise<void> {
  const uploaded = await deps.db.selectFrom('launch_files').select(['ordinal', 'bucket_path']).where('launch_id', '=', launchId).where('uploaded_at', 'is not', null).execute()
  if (uploaded.length === 0 || client === null || target === null) return
  try {
    const id = await bucketId(client, target.folderId, target.folderName, target.policy)
    for (const file of uploaded) {
      await deleteFromBucket(client, target.folderId, id, file.bucket_path)
      await deps.db.updateTable('launch_files').set({ uploaded_at: null }).where('launch_id', '=', launchId).where('ordinal', '=', file.ordinal).execute()
    }
  } catch (error) {
    deps.logger?.warn({ err: error, launchId, files: uploaded.map((f) => f.bucket_path) }, 'could not delete the files a failed launch had uploaded')
  }
}
