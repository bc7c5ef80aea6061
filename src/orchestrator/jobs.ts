import type { OrchestratorClient } from './client.js'
import { odataString } from './endpoints.js'

// The Orchestrator operations a launch uses, named for what they do.

export interface Release { Id: number, Key: string, Name: string }

export interface Job {
  Id: number
  Key: string
  State: string
  Info?: string | null
  OutputArguments?: string | Record<string, unknown> | null
  StartTime?: string | null
  EndTime?: string | null
  Reference?: string | null
}

export async function findRelease (client: OrchestratorClient, folderId: number, processName: string, folderName: string): Promise<Release | null> {
  const filter = encodeURIComponent(`Name eq ${odataString(processName)}`)
  const { body } = await client.odata<{ value: Release[] }>('GET', `/odata/Releases?$filter=${filter}&$top=2`, { folderId, context: { folder: folderName, process: processName } })
  return body.value[0] ?? null
}

/**
 * Starts one job; `reference` is left out for servers that predate job references. `timeoutMs`
 * is how long to wait for the answer: a StartJobs abandoned early may still start its job later.
 */
export async function startJob (client: OrchestratorClient, folderId: number, start: { releaseKey: string, inputArguments: string, reference: string | null }, context: { folder: string, process: string }, timeoutMs?: number): Promise<Job> {
  const { body } = await client.odata<{ value: Job[] }>('POST', '/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs', {
    folderId,
    context,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    body: { startInfo: { ReleaseKey: start.releaseKey, Strategy: 'ModernJobsCount', JobsCount: 1, InputArguments: start.inputArguments, ...(start.reference !== null ? { Reference: start.reference } : {}) } }
  })
  const job = body.value[0]
  if (job === undefined) throw new Error('Orchestrator answered StartJobs without a job')
  return job
}

/** The job a launch started, found by its Reference: how a launch learns whether an unclear attempt worked. */
export async function findJobByReference (client: OrchestratorClient, folderId: number, reference: string): Promise<Job | null> {
  const filter = encodeURIComponent(`Reference eq ${odataString(reference)}`)
  const { body } = await client.odata<{ value: Job[] }>('GET', `/odata/Jobs?$filter=${filter}&$top=1`, { folderId })
  return body.value[0] ?? null
}

/** On servers without job references: the job whose input arguments carry the launch id. */
export async function findJobByLaunchArgument (client: OrchestratorClient, folderId: number, launchId: string): Promise<Job | null> {
  const filter = encodeURIComponent(`contains(InputArguments,${odataString(launchId)})`)
  const { body } = await client.odata<{ value: Job[] }>('GET', `/odata/Jobs?$filter=${filter}&$top=1`, { folderId })
  return body.value[0] ?? null
}

/** One job by id: the cheap read UiPath recommends for polling. */
export async function getJob (client: OrchestratorClient, folderId: number, id: number): Promise<Job> {
  const { body } = await client.odata<Job>('GET', `/odata/Jobs(${id})`, { folderId })
  return body
}

/** Jobs of one folder by id, in one collection read (OData 4.0 `or`, which older servers understand too). Counts against the tenant's list limit. */
export async function getJobs (client: OrchestratorClient, folderId: number, ids: number[]): Promise<Job[]> {
  const filter = encodeURIComponent(ids.map((id) => `Id eq ${id}`).join(' or '))
  const { body } = await client.odata<{ value: Job[] }>('GET', `/odata/Jobs?$filter=${filter}&$top=${ids.length}`, { folderId })
  return body.value
}

export async function addQueueItem (client: OrchestratorClient, folderId: number, item: { queueName: string, content: Record<string, unknown>, reference: string }, context: { folder: string }, timeoutMs?: number): Promise<{ Id: number, Key: string }> {
  const { body } = await client.odata<{ Id: number, Key: string }>('POST', '/odata/Queues/UiPathODataSvc.AddQueueItem', {
    folderId,
    context,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    body: { itemData: { Name: item.queueName, Priority: 'Normal', SpecificContent: item.content, Reference: item.reference } }
  })
  return body
}

/** The queue item a launch added, found by its Reference (the launch id). */
export async function findQueueItemByReference (client: OrchestratorClient, folderId: number, reference: string): Promise<{ Id: number, Key: string } | null> {
  const filter = encodeURIComponent(`Reference eq ${odataString(reference)}`)
  const { body } = await client.odata<{ value: Array<{ Id: number, Key: string }> }>('GET', `/odata/QueueItems?$filter=${filter}&$top=1`, { folderId })
  return body.value[0] ?? null
}

export const TERMINAL_JOB_STATES = new Set(['Successful', 'Faulted', 'Stopped'])

/** Asks Orchestrator to stop a job: SoftStop lets the robot finish its step, Kill ends it at once. */
export async function stopJob (client: OrchestratorClient, folderId: number, jobId: number, strategy: 'SoftStop' | 'Kill'): Promise<void> {
  await client.odata('POST', '/odata/Jobs/UiPath.Server.Configuration.OData.StopJobs', { folderId, body: { jobIds: [jobId], strategy } })
}

export interface BulkAddResult { Success?: boolean, Message?: string, FailedItems?: Array<{ Ordinal?: number | null, ErrorCode?: string }> }

/**
 * Adds items in one request. ProcessAllIndependently: one refused item (a reference already in a
 * queue that enforces unique references, say) does not stop the others; the answer lists the
 * refused ones by their position in the request.
 */
export async function bulkAddQueueItems (client: OrchestratorClient, folderId: number, queueName: string, items: Array<{ content: Record<string, unknown>, reference: string }>, context: { folder: string }, timeoutMs?: number): Promise<BulkAddResult> {
  const { body } = await client.odata<BulkAddResult>('POST', '/odata/Queues/UiPathODataSvc.BulkAddQueueItems', {
    folderId,
    context,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    body: { queueName, commitType: 'ProcessAllIndependently', queueItems: items.map((item) => ({ Name: queueName, Priority: 'Normal', SpecificContent: item.content, Reference: item.reference })) }
  })
  return body
}

const REFERENCE_PAGE = 1000

export interface QueueItemRef { Id: number, Reference: string | null, Status?: string, RowVersion?: string }

/** The queue items whose Reference starts with `prefix`, a page of 1,000 at a time. */
export async function queueItemsByPrefix (client: OrchestratorClient, folderId: number, prefix: string): Promise<QueueItemRef[]> {
  const found: QueueItemRef[] = []
  const filter = encodeURIComponent(`startswith(Reference,${odataString(prefix)})`)
  for (let skip = 0; ; skip += REFERENCE_PAGE) {
    const { body } = await client.odata<{ value: QueueItemRef[] }>('GET', `/odata/QueueItems?$filter=${filter}&$select=Id,Reference,Status,RowVersion&$orderby=Id&$top=${REFERENCE_PAGE}&$skip=${skip}`, { folderId })
    found.push(...body.value)
    if (body.value.length < REFERENCE_PAGE) return found
  }
}

/** The references of the queue items whose Reference starts with `prefix`: what an unclear bulk add already added. */
export async function queueItemReferences (client: OrchestratorClient, folderId: number, prefix: string): Promise<Set<string>> {
  return new Set((await queueItemsByPrefix(client, folderId, prefix)).flatMap((i) => i.Reference === null ? [] : [i.Reference]))
}

/** Deletes queue items nobody has started (Orchestrator refuses the others); answers the ids it did not delete. */
export async function deleteQueueItems (client: OrchestratorClient, folderId: number, items: QueueItemRef[]): Promise<number[]> {
  const refused: number[] = []
  for (let at = 0; at < items.length; at += REFERENCE_PAGE) {
    const chunk = items.slice(at, at + REFERENCE_PAGE).map((i) => ({ Id: i.Id, ...(i.RowVersion !== undefined ? { RowVersion: i.RowVersion } : {}) }))
    const { body } = await client.odata<{ FailedItems?: number[] }>('POST', '/odata/QueueItems/UiPathODataSvc.DeleteBulk', { folderId, body: { queueItems: chunk } })
    refused.push(...(body.FailedItems ?? []))
  }
  return refused
}
