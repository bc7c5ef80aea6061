// What a successful admin request changed, read from its route: the resource, the action, the id
// and the names of the fields it sent. Values are never read, so no secret (passwords, keys,
// tokens) can reach the audit trail. One rule for every route, so a route added later is audited
// without anyone remembering to.

export interface AuditEntry {
  via: 'api' | 'console'
  action: string
  resource: string
  resourceId: string | null
  fields: string[]
}

export interface AuditedRequest {
  method: string
  /** The route's pattern, e.g. /api/v1/mailboxes/:id/rotate-token. */
  route: string
  params: Record<string, string | undefined>
  body: unknown
  status: number
  /** The JSON answer's id, for creations through the API. */
  createdId: string | null
}

/** Requests that change nothing an admin manages, or are the act of signing in. */
const NOT_CHANGES = [
  /^\/console\/(sign-in|sign-out|set-password)/,
  /\/test$/,
  /^\/console\/account\//
]

/** Form fields that carry the form, not a change. */
const FORM_NOISE = new Set(['_csrf', 'confirm', 'mode', 'next'])

const VERBS: Record<string, string> = { POST: 'create', PUT: 'set', PATCH: 'update', DELETE: 'delete' }

export function auditEntry (request: AuditedRequest): AuditEntry | null {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return null
  if (request.status >= 400) return null
  const via = request.route.startsWith('/api/v1/') ? 'api' : request.route.startsWith('/console/') ? 'console' : null
  if (via === null || NOT_CHANGES.some((pattern) => pattern.test(request.route))) return null
  const body = typeof request.body === 'object' && request.body !== null && !Buffer.isBuffer(request.body) ? request.body as Record<string, unknown> : {}
  // A test send that only checks launches nothing: not a change. One that launches is.
  if (/test-sends?$/.test(request.route) && !(body.dryRun === false || body.mode === 'launch')) return null

  const segments = request.route.replace(/^\/(api\/v1|console)\//, '').replace(/^admin\//, '').split('/').filter((s) => s !== '')
  // The resource is the last literal segment before the last id; what follows the id is the action.
  let resource = segments[0] ?? ''
  let resourceId: string | null = null
  let verb: string | null = null
  for (const segment of segments.slice(1)) {
    if (segment.startsWith(':')) {
      resourceId = request.params[segment.slice(1)] ?? null
      verb = null
    } else if ((resourceId !== null && verb === null && !/^(api-keys|keys|users)$/.test(segment)) || segment === 'import') {
      verb = segment
    } else {
      resource = segment
      resourceId = null
      verb = null
    }
  }
  let action = verb ?? VERBS[request.method] ?? request.method.toLowerCase()
  // One connection per tenant: saving it sets it, whichever method the door used.
  if (resource === 'orchestrator' && action === 'create') action = 'set'
  // The console saves with POST to the item's own page.
  if (via === 'console' && verb === null && resourceId !== null && request.method === 'POST') action = 'update'
  if (action === 'create' && resourceId === null) resourceId = request.createdId
  const fields = Object.keys(body).filter((name) => !FORM_NOISE.has(name)).sort()
  return { via, action, resource, resourceId, fields }
}
