import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Ajv, type ValidateFunction } from 'ajv'
// The request schemas of the published Orchestrator API (OpenAPI components), as the contract gives them.
import contractDocument from './contract-requests.json' with { type: 'json' }

// A local stand-in for UiPath Orchestrator that follows the published API contract: OData paths,
// the folder header, request bodies checked against the contract's schemas, UiPath's status codes
// and error bodies. It is a simulator and says so; it never claims to be UiPath.

export interface SimFolder { Id: number, Key: string, DisplayName: string, FullyQualifiedName: string }
export interface SimRelease { Id: number, Key: string, Name: string, ProcessKey: string, OrganizationUnitId: number }
export type JobState = 'Pending' | 'Running' | 'Stopping' | 'Terminating' | 'Successful' | 'Faulted' | 'Stopped'

export interface SimJob {
  Id: number
  Key: string
  State: JobState
  Reference: string | null
  ReleaseName: string
  InputArguments: string | null
  OutputArguments: string | null
  Info: string | null
  CreationTime: string
  StartTime: string | null
  EndTime: string | null
  OrganizationUnitId: number
}

export interface SimQueueItem { Id: number, Key: string, QueueName: string, Reference: string | null, SpecificContent: Record<string, unknown>, Priority: string, OrganizationUnitId: number, Status: 'New' | 'InProgress' | 'Successful' | 'Failed' | 'Deleted', RowVersion: string }

export interface SimulatorOptions {
  organization?: string
  tenant?: string
  clientId?: string
  clientSecret?: string
  username?: string
  password?: string
  tenancyName?: string
  refreshClientId?: string
  userKey?: string
  personalAccessToken?: string
  tokenLifetimeSeconds?: number
  folders?: Array<Pick<SimFolder, 'FullyQualifiedName'>>
  /** Process names published in every folder. */
  processes?: string[]
  queues?: string[]
  /** Finish every job on its own after this many ms (Running at half time); off when undefined. */
  autoFinishMs?: number
  autoFinish?: { state: JobState, output?: Record<string, unknown>, info?: string }
  webhook?: { url: string, secret: string }
  /** TCP port on 127.0.0.1; any free one when undefined. */
  port?: number
  /** Behave like an older on-premises server (the 2020 contract): no job Reference. */
  withoutJobReference?: boolean
  /** Storage buckets in every folder. */
  buckets?: string[]
  /** The queues' "Enforce unique references" setting (on by default here; off, a repeated reference adds a second item). */
  uniqueReferences?: boolean
  /** Collection reads of Jobs and QueueItems allowed per rolling minute (UiPath Cloud: 100 per tenant for non-robot callers); 429 past it. */
  listReadsPerMinute?: number
}

export interface SimBlob { bucketId: number, bucket: string, path: string, contentType: string, content: Buffer }

export interface RecordedRequest {
  /** When it came (ms since the epoch). */
  at: number
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  body: string
}

type FaultAction = { kind: 'answer', status: number, body?: unknown, headers?: Record<string, string> } | { kind: 'drop' } | { kind: 'delay', ms: number } | { kind: 'after-create', status: number }
interface Fault { match: RegExp, action: FaultAction, times: number }

export interface OrchestratorSimulator {
  url: string
  requests: RecordedRequest[]
  /** Collection reads answered 429 (past listReadsPerMinute). */
  throttled: number
  folders: SimFolder[]
  releases: SimRelease[]
  jobs: SimJob[]
  queueItems: SimQueueItem[]
  /** Files in the storage buckets, by "bucketId:path". */
  blobs: Map<string, SimBlob>
  /** Answer the next `times` requests whose "METHOD path" matches with this status and body. */
  fail: (match: RegExp, status: number, body?: unknown, headers?: Record<string, string>, times?: number) => void
  /** Close the connection without answering, as a crashed proxy would. */
  drop: (match: RegExp, times?: number) => void
  /** Hold the answer back this long. */
  delay: (match: RegExp, ms: number, times?: number) => void
  /** Create the job (or add the items), then answer this status anyway (UiPath documents a 502 after which the job may exist). */
  failAfterCreate: (status: number, times?: number, match?: RegExp) => void
  expireTokens: () => void
  tokensIssued: () => number
  /** Move a job to a state; a terminal state sets EndTime and sends the webhook, when one is set. */
  setJobState: (id: number, state: JobState, details?: { output?: Record<string, unknown>, info?: string }) => Promise<void>
  webhookDeliveries: Array<{ status: number, body: string }>
  close: () => Promise<void>
}

const contract = contractDocument as unknown as { components: { schemas: Record<string, Record<string, unknown>> } }

function contractValidator (name: string): ValidateFunction {
  const schemas = structuredClone(contract.components.schemas)
  // The published schema types SpecificContent values as objects; Orchestrator accepts any JSON
  // value there (strings are the common case), so the simulator does too.
  const itemData = schemas.QueueItemDataDto as { properties: Record<string, unknown> }
  itemData.properties.SpecificContent = { type: 'object' }
  // Formats (int64, uuid…) are documentation in the contract; the simulator checks shapes and required fields.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false })
  ajv.addSchema({ $id: 'contract', components: { schemas } })
  return ajv.compile({ $ref: `contract#/components/schemas/${name}` })
}

const validateStartJobs = contractValidator('StartJobsRequest')
const validateAddQueueItem = contractValidator('AddQueueItemRequest')
const validateStopJobs = contractValidator('StopJobsRequest')
const validateBulkAdd = contractValidator('BulkAddQueueItemsRequest')
const validateDeleteBulk = contractValidator('QueueItemDeleteBulkRequest')

function errorBody (message: string, errorCode: number): { message: string, errorCode: number, traceId: string } {
  return { message, errorCode, traceId: randomBytes(16).toString('hex') }
}

function odataFilter (filter: string | null): { field: string, value: string } | null {
  const match = /^\s*(\w+) eq '((?:[^']|'')*)'\s*$/.exec(filter ?? '')
  return match === null ? null : { field: match[1] as string, value: (match[2] as string).replace(/''/g, "'") }
}

/** The items an OData `$filter=Field eq 'value'` selects (all of them without a filter). */
function matching<T> (items: T[], filter: { field: string, value: string } | null): T[] {
  return filter === null ? items : items.filter((item) => String(item[filter.field as keyof T]) === filter.value)
}

const TERMINAL: JobState[] = ['Successful', 'Faulted', 'Stopped']

export async function startOrchestratorSimulator (options: SimulatorOptions = {}): Promise<OrchestratorSimulator> {
  const o = {
    organization: 'acme',
    tenant: 'DefaultTenant',
    clientId: 'sim-client',
    clientSecret: 'sim-secret',
    username: 'admin',
    password: 'sim-password',
    tenancyName: 'Default',
    refreshClientId: 'sim-legacy-client',
    userKey: 'sim-user-key',
    personalAccessToken: 'sim-pat',
    tokenLifetimeSeconds: 3600,
    ...options
  }
  const folders: SimFolder[] = (options.folders ?? [{ FullyQualifiedName: 'Shared' }, { FullyQualifiedName: 'Finance' }]).map((f, i) => ({
    Id: 100 + i, Key: randomUUID(), DisplayName: f.FullyQualifiedName.split('/').pop() ?? f.FullyQualifiedName, FullyQualifiedName: f.FullyQualifiedName
  }))
  const releases: SimRelease[] = []
  for (const folder of folders) {
    for (const name of options.processes ?? ['MonthlyReport']) {
      releases.push({ Id: 500 + releases.length, Key: randomUUID(), Name: name, ProcessKey: name, OrganizationUnitId: folder.Id })
    }
  }
  const queues = new Set(options.queues ?? ['Invoices'])
  const buckets = folders.flatMap((folder, f) => (options.buckets ?? ['Attachments']).map((name, b) => ({ Id: 300 + f * 10 + b, Name: name, Identifier: randomUUID(), OrganizationUnitId: folder.Id })))
  const blobs = new Map<string, SimBlob>()
  const blobSecret = randomBytes(16)
  let simulatorUrl = ''
  const blobSignature = (bucketId: number, path: string): string => createHmac('sha256', blobSecret).update(`${bucketId}:${path}`).digest('hex')
  const jobs: SimJob[] = []
  const queueItems: SimQueueItem[] = []
  const tokens = new Set<string>()
  let issued = 0
  let nextJobId = 9000
  const requests: RecordedRequest[] = []
  const counters = { throttled: 0 }
  /** When each collection read of the last minute came. */
  const listReads: number[] = []
  const faults: Fault[] = []
  const webhookDeliveries: Array<{ status: number, body: string }> = []
  const timers = new Set<NodeJS.Timeout>()

  const issue = (): string => {
    issued++
    const token = `sim-token-${randomBytes(12).toString('hex')}`
    tokens.add(token)
    return token
  }

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, { ...(text !== '' ? { 'content-type': 'application/json; odata.metadata=minimal; charset=utf-8' } : {}), ...headers })
    res.end(text)
  }

  const authorized = (req: IncomingMessage): boolean => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    return token !== undefined && (tokens.has(token) || token === o.personalAccessToken)
  }

  const orchestratorPrefix = `/${o.organization}/${o.tenant}/orchestrator_`

  async function deliverWebhook (job: SimJob): Promise<void> {
    if (options.webhook === undefined) return
    const type = job.State === 'Successful' ? 'job.completed' : job.State === 'Faulted' ? 'job.faulted' : 'job.stopped'
    const body = JSON.stringify({
      Type: type,
      EventId: randomUUID(),
      Timestamp: new Date().toISOString(),
      Job: { Id: job.Id, Key: job.Key, State: job.State, Info: job.Info, StartTime: job.StartTime, EndTime: job.EndTime, Reference: job.Reference, OutputArguments: job.OutputArguments === null ? null : JSON.parse(job.OutputArguments) as unknown, Release: { Name: job.ReleaseName } },
      OrganizationUnitId: job.OrganizationUnitId
    })
    const signature = createHmac('sha256', options.webhook.secret).update(body).digest('base64')
    try {
      const res = await fetch(options.webhook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-uipath-signature': signature }, body })
      webhookDeliveries.push({ status: res.status, body })
    } catch {
      // UiPath does not retry webhook deliveries; neither does the simulator.
      webhookDeliveries.push({ status: 0, body })
    }
  }

  async function setJobState (id: number, state: JobState, details: { output?: Record<string, unknown>, info?: string } = {}): Promise<void> {
    const job = jobs.find((j) => j.Id === id)
    if (job === undefined) throw new Error(`the simulator has no job ${id}`)
    job.State = state
    if (state === 'Running') job.StartTime = new Date().toISOString()
    if (TERMINAL.includes(state)) {
      job.StartTime ??= new Date().toISOString()
      job.EndTime = new Date().toISOString()
      job.Info = details.info ?? (state === 'Successful' ? 'Job completed' : state === 'Stopped' ? 'Job stopped by user' : 'Job faulted')
      job.OutputArguments = details.output !== undefined ? JSON.stringify(details.output) : (state === 'Successful' ? '{}' : null)
      await deliverWebhook(job)
    }
  }

  function folderOf (req: IncomingMessage, res: ServerResponse): SimFolder | null {
    const header = req.headers['x-uipath-organizationunitid']
    if (header === undefined) {
      send(res, 400, errorBody('A folder is required for this action.', 1101))
      return null
    }
    const folder = folders.find((f) => String(f.Id) === header)
    if (folder === undefined) {
      send(res, 400, errorBody('The folder does not exist or the user does not have access to it.', 1100))
      return null
    }
    return folder
  }

  function createJob (folder: SimFolder, release: SimRelease, start: { InputArguments?: string, Reference?: string }): SimJob {
    const job: SimJob = {
      Id: nextJobId++,
      Key: randomUUID(),
      State: 'Pending',
      Reference: start.Reference ?? null,
      ReleaseName: release.Name,
      InputArguments: start.InputArguments ?? null,
      OutputArguments: null,
      Info: null,
      CreationTime: new Date().toISOString(),
      StartTime: null,
      EndTime: null,
      OrganizationUnitId: folder.Id
    }
    jobs.push(job)
    if (options.autoFinishMs !== undefined) {
      const finish = options.autoFinish ?? { state: 'Successful' as const }
      // A job stopped meanwhile (StopJobs) is not brought back to life by its script.
      const live = (): boolean => job.State === 'Pending' || job.State === 'Running'
      const running = setTimeout(() => { if (live()) setJobState(job.Id, 'Running').catch(() => {}) }, options.autoFinishMs / 2)
      const done = setTimeout(() => { if (live()) setJobState(job.Id, finish.state, { ...(finish.output !== undefined ? { output: finish.output } : {}), ...(finish.info !== undefined ? { info: finish.info } : {}) }).catch(() => {}) }, options.autoFinishMs)
      for (const timer of [running, done]) { timer.unref(); timers.add(timer) }
    }
    return job
  }

  function handleOData (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, body: string, fault: FaultAction | undefined): void {
    if (!authorized(req)) { send(res, 401, errorBody('You are not authenticated!', 0)); return }
    const method = req.method ?? 'GET'
    if (method === 'GET' && path === '/odata/Folders') {
      const filter = odataFilter(query.get('$filter'))
      const value = matching(folders, filter)
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Folders`, value: value.slice(0, Number(query.get('$top') ?? value.length)) })
      return
    }
    if (method === 'GET' && (path === '/odata/Jobs' || path === '/odata/QueueItems')) {
      // The per-tenant limit on collection reads; reads of one job by id are not limited.
      const now = Date.now()
      while (listReads.length > 0 && (listReads[0] as number) <= now - 60_000) listReads.shift()
      if (listReads.length >= (options.listReadsPerMinute ?? 100)) {
        counters.throttled++
        send(res, 429, errorBody('Too Many Requests. The rate limit for this endpoint was exceeded; try again later.', 0), { 'retry-after': String(Math.max(1, Math.ceil(((listReads[0] as number) + 60_000 - now) / 1000))) })
        return
      }
      listReads.push(now)
    }
    if (method === 'GET' && path === '/odata/QueueItems') {
      const folder = folderOf(req, res)
      if (folder === null) return
      const inFolder = queueItems.filter((i) => i.OrganizationUnitId === folder.Id)
      const startsWith = /^startswith\(Reference,'((?:[^']|'')*)'\)$/.exec(query.get('$filter') ?? '')
      let selected = startsWith !== null
        ? inFolder.filter((i) => (i.Reference ?? '').startsWith((startsWith[1] as string).replace(/''/g, "'")))
        : matching(inFolder, odataFilter(query.get('$filter')))
      // Paging as OData does it: $skip, then $top; $select keeps the named properties.
      selected = selected.slice(Number(query.get('$skip') ?? 0), Number(query.get('$skip') ?? 0) + Number(query.get('$top') ?? selected.length))
      const fields = query.get('$select')?.split(',')
      const value = fields === undefined ? selected : selected.map((i) => Object.fromEntries(fields.map((f) => [f, i[f as keyof SimQueueItem]])))
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#QueueItems`, value })
      return
    }
    if (method === 'GET' && path === '/odata/Releases') {
      const folder = folderOf(req, res)
      if (folder === null) return
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Releases`, value: matching(releases.filter((i) => i.OrganizationUnitId === folder.Id), odataFilter(query.get('$filter'))) })
      return
    }
    if (method === 'POST' && path === '/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs') {
      const folder = folderOf(req, res)
      if (folder === null) return
      let payload: { startInfo?: { ReleaseKey?: string, InputArguments?: string, Reference?: string, Strategy?: string, JobsCount?: number } }
      try { payload = JSON.parse(body) } catch { send(res, 400, errorBody('The request body is not valid JSON.', 0)); return }
      if (!validateStartJobs(payload)) { send(res, 400, errorBody(`startInfo does not follow the contract: ${validateStartJobs.errors?.map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ') ?? ''}`, 0)); return }
      const start = payload.startInfo ?? {}
      if (options.withoutJobReference === true && start.Reference !== undefined) {
        send(res, 400, errorBody("startInfo : The property 'Reference' does not exist on type 'UiPath.Server.Configuration.OData.StartProcessDto'. Make sure to only use property names that are defined by the type.", 0))
        return
      }
      if (start.Strategy !== 'ModernJobsCount' || start.JobsCount !== 1) { send(res, 400, errorBody('Strategy ModernJobsCount with JobsCount 1 is expected by this simulator.', 0)); return }
      if (start.InputArguments !== undefined) {
        try { JSON.parse(start.InputArguments) } catch { send(res, 400, errorBody('InputArguments is not valid JSON.', 0)); return }
      }
      const release = releases.find((r) => r.Key === start.ReleaseKey && r.OrganizationUnitId === folder.Id)
      if (release === undefined) { send(res, 404, errorBody('Release does not exist.', 1002)); return }
      const job = createJob(folder, release, start)
      if (fault?.kind === 'after-create') { send(res, fault.status, errorBody('Bad gateway.', 0)); return }
      send(res, 201, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Jobs`, value: [job] })
      return
    }
    if (method === 'POST' && path === '/odata/Jobs/UiPath.Server.Configuration.OData.StopJobs') {
      const folder = folderOf(req, res)
      if (folder === null) return
      let payload: { jobIds?: number[], strategy?: 'SoftStop' | 'Kill' }
      try { payload = JSON.parse(body) } catch { send(res, 400, errorBody('The request body is not valid JSON.', 0)); return }
      if (!validateStopJobs(payload)) { send(res, 400, errorBody(`the request does not follow the contract: ${validateStopJobs.errors?.map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ') ?? ''}`, 0)); return }
      const targets = (payload.jobIds ?? []).map((id) => jobs.find((j) => j.Id === id && j.OrganizationUnitId === folder.Id))
      if (targets.some((j) => j === undefined)) { send(res, 404, errorBody('Job does not exist.', 1002)); return }
      for (const job of targets as SimJob[]) {
        if (TERMINAL.includes(job.State)) continue
        // A soft stop asks the robot to stop at its next check; a kill ends it at once.
        if (payload.strategy === 'Kill') {
          job.State = 'Terminating'
          setJobState(job.Id, 'Stopped', { info: 'Job terminated by user' }).catch(() => {})
        } else {
          job.State = 'Stopping'
          const timer = setTimeout(() => { setJobState(job.Id, 'Stopped').catch(() => {}) }, 200)
          timer.unref()
          timers.add(timer)
        }
      }
      res.writeHead(200)
      res.end()
      return
    }
    const byId = /^\/odata\/Jobs\((\d+)\)$/.exec(path)
    if (method === 'GET' && byId !== null) {
      const folder = folderOf(req, res)
      if (folder === null) return
      const job = jobs.find((j) => j.Id === Number(byId[1]) && j.OrganizationUnitId === folder.Id)
      if (job === undefined) { send(res, 404, errorBody('Job does not exist.', 1002)); return }
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Jobs/$entity`, ...job })
      return
    }
    if (method === 'GET' && path === '/odata/Jobs') {
      const folder = folderOf(req, res)
      if (folder === null) return
      const filter = odataFilter(query.get('$filter'))
      const inFolder = jobs.filter((j) => j.OrganizationUnitId === folder.Id)
      const contains = /^contains\(InputArguments,'((?:[^']|'')*)'\)$/.exec(query.get('$filter') ?? '')
      if (contains !== null) { send(res, 200, { value: inFolder.filter((j) => (j.InputArguments ?? '').includes((contains[1] as string).replace(/''/g, "'"))) }); return }
      // Several jobs by id in one read: Id eq 1 or Id eq 2 …
      const ids = /^Id eq \d+( or Id eq \d+)*$/.test(query.get('$filter') ?? '') ? new Set((query.get('$filter') ?? '').match(/\d+/g)?.map(Number)) : null
      if (ids !== null) { send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Jobs`, value: inFolder.filter((j) => ids.has(j.Id)).slice(0, Number(query.get('$top') ?? ids.size)) }); return }
      if (options.withoutJobReference === true && filter?.field === 'Reference') { send(res, 400, errorBody("Could not find a property named 'Reference' on type 'UiPath.Server.Configuration.OData.JobDto'.", 0)); return }
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Jobs`, value: matching(inFolder, filter) })
      return
    }
    if (method === 'POST' && path === '/odata/Queues/UiPathODataSvc.AddQueueItem') {
      const folder = folderOf(req, res)
      if (folder === null) return
      let payload: { itemData?: { Name?: string, Priority?: string, SpecificContent?: Record<string, unknown>, Reference?: string } }
      try { payload = JSON.parse(body) } catch { send(res, 400, errorBody('The request body is not valid JSON.', 0)); return }
      if (!validateAddQueueItem(payload)) { send(res, 400, errorBody(`itemData does not follow the contract: ${validateAddQueueItem.errors?.map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ') ?? ''}`, 0)); return }
      const item = payload.itemData ?? {}
      if (item.Name === undefined || !queues.has(item.Name)) { send(res, 404, errorBody(`Queue ${item.Name ?? ''} does not exist.`, 1002)); return }
      if (item.Reference !== undefined && options.uniqueReferences !== false && queueItems.some((q) => q.QueueName === item.Name && q.Reference === item.Reference)) {
        send(res, 409, errorBody('Error creating Transaction. Duplicate Reference.', 1016))
        return
      }
      const created: SimQueueItem = { Id: 70000 + queueItems.length, Key: randomUUID(), QueueName: item.Name, Reference: item.Reference ?? null, SpecificContent: item.SpecificContent ?? {}, Priority: item.Priority ?? 'Normal', OrganizationUnitId: folder.Id, Status: 'New', RowVersion: randomBytes(8).toString('base64') }
      queueItems.push(created)
      send(res, 201, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#QueueItems/$entity`, ...created })
      return
    }
    if (method === 'GET' && path === '/odata/Buckets') {
      const folder = folderOf(req, res)
      if (folder === null) return
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#Buckets`, value: matching(buckets.filter((b) => b.OrganizationUnitId === folder.Id), odataFilter(query.get('$filter'))) })
      return
    }
    const bucketAction = /^\/odata\/Buckets\((\d+)\)\/UiPath\.Server\.Configuration\.OData\.(GetWriteUri|DeleteFile)$/.exec(path)
    if (bucketAction !== null) {
      const folder = folderOf(req, res)
      if (folder === null) return
      const bucket = buckets.find((b) => b.Id === Number(bucketAction[1]) && b.OrganizationUnitId === folder.Id)
      if (bucket === undefined) { send(res, 404, errorBody('Bucket does not exist.', 1002)); return }
      const filePath = query.get('path')
      if (filePath === null || filePath === '') { send(res, 400, errorBody('The path is required.', 0)); return }
      if (method === 'GET' && bucketAction[2] === 'GetWriteUri') {
        // As the built-in storage answers: a signed URI of its own, no token needed, one header to send.
        const uri = `${simulatorUrl}/simulator/blob/${bucket.Id}?path=${encodeURIComponent(filePath)}&sig=${blobSignature(bucket.Id, filePath)}&contentType=${encodeURIComponent(query.get('contentType') ?? '')}`
        send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#UiPath.Server.Configuration.OData.BlobFileAccessDto`, Uri: uri, Verb: 'PUT', RequiresAuth: false, Headers: { Keys: ['x-ms-blob-type'], Values: ['BlockBlob'] } })
        return
      }
      if (method === 'DELETE' && bucketAction[2] === 'DeleteFile') {
        blobs.delete(`${bucket.Id}:${filePath}`)
        res.writeHead(204)
        res.end()
        return
      }
    }
    if (method === 'POST' && path === '/odata/QueueItems/UiPathODataSvc.DeleteBulk') {
      const folder = folderOf(req, res)
      if (folder === null) return
      let payload: { queueItems?: Array<{ Id?: number, RowVersion?: string }> }
      try { payload = JSON.parse(body) } catch { send(res, 400, errorBody('The request body is not valid JSON.', 0)); return }
      if (!validateDeleteBulk(payload)) { send(res, 400, errorBody(`the request does not follow the contract: ${validateDeleteBulk.errors?.map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ') ?? ''}`, 0)); return }
      // Only items nobody has started are deleted (Status New); a stale RowVersion is refused, as
      // optimistic concurrency wants. The answer lists the ids not deleted.
      const failed: number[] = []
      for (const entry of payload.queueItems ?? []) {
        const item = queueItems.find((q) => q.Id === entry.Id && q.OrganizationUnitId === folder.Id)
        if (item === undefined || item.Status !== 'New' || (entry.RowVersion !== undefined && entry.RowVersion !== item.RowVersion)) { failed.push(entry.Id ?? 0); continue }
        item.Status = 'Deleted'
        item.RowVersion = randomBytes(8).toString('base64')
      }
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#UiPath.Server.Configuration.OData.BulkOperationResponseDto_1OfInt64`, Success: failed.length === 0, Message: failed.length === 0 ? 'Success' : `${failed.length} items could not be deleted`, FailedItems: failed })
      return
    }
    if (method === 'POST' && path === '/odata/Queues/UiPathODataSvc.BulkAddQueueItems') {
      const folder = folderOf(req, res)
      if (folder === null) return
      let payload: { queueName?: string, commitType?: string, queueItems?: Array<{ Name?: string, Priority?: string, SpecificContent?: Record<string, unknown>, Reference?: string }> }
      try { payload = JSON.parse(body) } catch { send(res, 400, errorBody('The request body is not valid JSON.', 0)); return }
      if (!validateBulkAdd(payload)) { send(res, 400, errorBody(`the request does not follow the contract: ${validateBulkAdd.errors?.map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ') ?? ''}`, 0)); return }
      const queueName = payload.queueName ?? ''
      if (!queues.has(queueName)) { send(res, 404, errorBody(`Queue ${queueName} does not exist.`, 1002)); return }
      const failed: Array<{ Ordinal: number, ErrorCode: string }> = []
      // An index of the queue's references for this request: thousands of items are checked
      // against thousands, and a linear search each made the simulator the slow part of the bench.
      const taken = new Set(options.uniqueReferences === false ? [] : queueItems.filter((q) => q.QueueName === queueName && q.Reference !== null).map((q) => q.Reference))
      for (const [ordinal, item] of (payload.queueItems ?? []).entries()) {
        const reference = item.Reference ?? null
        if (reference !== null && options.uniqueReferences !== false && taken.has(reference)) {
          failed.push({ Ordinal: ordinal, ErrorCode: 'DuplicateReference' })
          continue
        }
        if (reference !== null) taken.add(reference)
        queueItems.push({ Id: 70000 + queueItems.length, Key: randomUUID(), QueueName: queueName, Reference: reference, SpecificContent: item.SpecificContent ?? {}, Priority: item.Priority ?? 'Normal', OrganizationUnitId: folder.Id, Status: 'New', RowVersion: randomBytes(8).toString('base64') })
      }
      if (fault?.kind === 'after-create') { send(res, fault.status, errorBody('Bad gateway.', 0)); return }
      send(res, 200, { '@odata.context': `${orchestratorPrefix}/odata/$metadata#UiPath.Server.Configuration.OData.BulkOperationResponseDto_1OfFailedQueueItemDto`, Success: failed.length === 0, Message: failed.length === 0 ? 'Success' : `${failed.length} items failed`, FailedItems: failed })
      return
    }
    send(res, 404, errorBody(`No HTTP resource was found that matches the request URI '${path}'.`, 0))
  }

  function handle (req: IncomingMessage, res: ServerResponse, rawBody: Buffer): void {
    const body = rawBody.toString('utf8')
    const url = new URL(req.url ?? '/', 'http://simulator')
    const path = url.pathname
    requests.push({ at: Date.now(), method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body })

    const fault = faults.find((f) => f.times > 0 && f.match.test(`${req.method ?? ''} ${path}`))
    if (fault !== undefined) {
      fault.times--
      if (fault.action.kind === 'answer') { send(res, fault.action.status, fault.action.body, fault.action.headers); return }
      if (fault.action.kind === 'drop') { req.socket.destroy(); return }
      if (fault.action.kind === 'delay') {
        const timer = setTimeout(() => { respond(req, res, url, body, rawBody, undefined) }, fault.action.ms)
        timers.add(timer)
        return
      }
    }
    respond(req, res, url, body, rawBody, fault?.action)
  }

  function respond (req: IncomingMessage, res: ServerResponse, url: URL, body: string, rawBody: Buffer, fault: FaultAction | undefined): void {
    const path = url.pathname
    if (req.method === 'POST' && (path === `/${o.organization}/identity_/connect/token` || path === '/identity_/connect/token' || path === '/identity/connect/token')) {
      const form = new URLSearchParams(body)
      if (form.get('grant_type') !== 'client_credentials') { send(res, 400, { error: 'unsupported_grant_type' }); return }
      if (form.get('client_id') !== o.clientId || form.get('client_secret') !== o.clientSecret) { send(res, 400, { error: 'invalid_client' }); return }
      send(res, 200, { access_token: issue(), expires_in: o.tokenLifetimeSeconds, token_type: 'Bearer', scope: form.get('scope') ?? '' })
      return
    }
    if (req.method === 'POST' && path === '/api/Account/Authenticate') {
      const b = JSON.parse(body || '{}') as { tenancyName?: string, usernameOrEmailAddress?: string, password?: string }
      if (b.tenancyName !== o.tenancyName || b.usernameOrEmailAddress !== o.username || b.password !== o.password) {
        send(res, 400, { result: null, targetUrl: null, success: false, error: { code: 0, message: 'Invalid user name or password', details: null }, unAuthorizedRequest: false, __abp: true })
        return
      }
      send(res, 200, { result: issue(), targetUrl: null, success: true, error: null, unAuthorizedRequest: false, __abp: true })
      return
    }
    if (req.method === 'POST' && path === '/oauth/token') {
      const b = JSON.parse(body || '{}') as { grant_type?: string, client_id?: string, refresh_token?: string }
      if (req.headers['x-uipath-tenantname'] !== o.tenant) { send(res, 400, { error: 'invalid_request', error_description: 'X-UIPATH-TenantName is missing or unknown' }); return }
      if (b.grant_type !== 'refresh_token' || b.client_id !== o.refreshClientId || b.refresh_token !== o.userKey) { send(res, 403, { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' }); return }
      send(res, 200, { access_token: issue(), id_token: 'sim-id-token', scope: 'openid profile offline_access', expires_in: 86400, token_type: 'Bearer' })
      return
    }
    // Not part of any Orchestrator contract: the simulator's own read-only view of what it received,
    // for a person following the demo in a browser (Orchestrator's /odata/Jobs needs a token).
    const blob = /^\/simulator\/blob\/(\d+)$/.exec(path)
    if (blob !== null) {
      // The storage side of a write URI: the signature is the authorization, as a SAS URL's is.
      const bucketId = Number(blob[1])
      const filePath = url.searchParams.get('path') ?? ''
      const bucket = buckets.find((b) => b.Id === bucketId)
      if (req.method !== 'PUT' || bucket === undefined || url.searchParams.get('sig') !== blobSignature(bucketId, filePath)) { send(res, 403, { error: 'AuthenticationFailed' }); return }
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') { send(res, 400, { error: 'MissingRequiredHeader', header: 'x-ms-blob-type' }); return }
      blobs.set(`${bucketId}:${filePath}`, { bucketId, bucket: bucket.Name, path: filePath, contentType: String(req.headers['content-type'] ?? ''), content: rawBody })
      res.writeHead(201)
      res.end()
      return
    }
    if (req.method === 'GET' && path === '/simulator/jobs') { send(res, 200, { jobs }); return }
    if (path.startsWith(`${orchestratorPrefix}/odata/`)) { handleOData(req, res, path.slice(orchestratorPrefix.length), url.searchParams, body, fault); return }
    if (path.startsWith('/odata/')) { handleOData(req, res, path, url.searchParams, body, fault); return }
    send(res, 404, errorBody(`No HTTP resource was found that matches the request URI '${path}'.`, 0))
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => { handle(req, res, Buffer.concat(chunks)) })
  })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(options.port ?? 0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  simulatorUrl = `http://127.0.0.1:${port}`

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get throttled () { return counters.throttled },
    folders,
    releases,
    jobs,
    queueItems,
    blobs,
    webhookDeliveries,
    fail (match, status, body, headers, times = 1) { faults.push({ match, action: { kind: 'answer', status, body, ...(headers !== undefined ? { headers } : {}) }, times }) },
    drop (match, times = 1) { faults.push({ match, action: { kind: 'drop' }, times }) },
    delay (match, ms, times = 1) { faults.push({ match, action: { kind: 'delay', ms }, times }) },
    failAfterCreate (status, times = 1, match = /StartJobs$/) { faults.push({ match, action: { kind: 'after-create', status }, times }) },
    expireTokens () { tokens.clear() },
    tokensIssued: () => issued,
    setJobState,
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}
