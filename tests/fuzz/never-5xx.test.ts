import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import t from 'tap'
import { ADMIN_KEY, client } from '../support/admin.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { mailgunSignature, multipart, urlencoded } from '../support/forms.js'
import { buildMessage } from '../support/mail.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// Bad input must get a 4xx that says what to fix, never a 5xx: generated cases over every admin
// route that takes a body and every door. Each case starts from the route's documented example and
// breaks some of it; the server must stay healthy throughout. Seeded, so a failure replays.

const SEED = 20261130
const ADMIN_CASES = 7_000
const DOOR_CASES = 3_000

/** Strings that have broken servers: NUL, lone surrogates, percent-encoded tabs in hosts, long runs. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', 'a\u0000b', '\uD800', 'x\uDFFFy', 'http://127.0.0.1%2509:3391/', 'https://[::1', 'http://%zz/', 'http://a b/', 'https://cloud.uipath.com/\u0000', '', ' ', 'ß'.repeat(300), '😀'.repeat(100), '0'.repeat(400), 'robots@почта.рф', '"><script>', "'; drop table tenants; --"),
  fc.string({ maxLength: 3000 })
)
/** URLs and hosts as people (and attackers) type them. */
const urlish = fc.oneof(fc.webUrl(), nasty, fc.tuple(fc.constantFrom('http://', 'https://', ''), nasty, fc.constantFrom('', ':3391', ':0', ':99999', '/x')).map((p) => p.join('')))
const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(nasty, tie('value'), { maxKeys: 4 }))
})).value

type Path = Array<string | number>

function leafPaths (value: unknown, at: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [at]
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value as Record<string, unknown>)
  return [at, ...entries.flatMap(([k, v]) => leafPaths(v, [...at, k]))]
}

function applied (example: unknown, path: Path, change: { value: unknown, remove: boolean }): unknown {
  if (path.length === 0) return change.value
  const [head, ...rest] = path as [string | number, ...Path]
  const copy: any = Array.isArray(example) ? [...example] : { ...(example as object) }
  if (rest.length === 0 && change.remove) {
    if (Array.isArray(copy)) copy.splice(Number(head), 1)
    else delete copy[head]
    return copy
  }
  copy[head] = applied(copy[head], rest, change)
  return copy
}

/**
 * The example with one to three of its fields (at any depth) replaced or removed, and sometimes a
 * field added: most of the body stays valid, so the case reaches past schema validation.
 */
function mutated (example: unknown): fc.Arbitrary<unknown> {
  const paths = leafPaths(example)
  const change = fc.record({ at: fc.nat(), value: anyValue, url: urlish, remove: fc.boolean() })
  const extra = fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(nasty, anyValue, { maxKeys: 2 }) })
  return fc.tuple(fc.array(change, { minLength: 1, maxLength: 3 }), extra).map(([changes, added]) => {
    let body = example
    for (const c of changes) {
      const path = paths[c.at % paths.length] ?? []
      const last = String(path[path.length - 1] ?? '')
      body = applied(body, path, { value: /url|host/i.test(last) ? c.url : c.value, remove: c.remove && path.length > 0 })
    }
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body, ...added } : body
  })
}

interface Route { method: 'POST' | 'PUT' | 'PATCH', url: string, key: string, example: unknown }

async function routesWithBodies (app: FastifyInstance, ids: Record<string, string>, keys: { admin: string, tenant: string }): Promise<Route[]> {
  const spec = app.swagger() as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { example?: unknown }> } }>> }
  const routes: Route[] = []
  for (const [path, operations] of Object.entries(spec.paths)) {
    if (!path.startsWith('/api/v1/') || path.endsWith('/test')) continue // the connection test reaches out to the URL
    for (const [method, operation] of Object.entries(operations)) {
      const example = operation.requestBody?.content?.['application/json']?.example
      if (example === undefined) continue
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => ids[`${path.split('/')[3] ?? ''}.${name}`] ?? ids[name] ?? name)
      routes.push({ method: method.toUpperCase() as Route['method'], url, key: path.startsWith('/api/v1/tenants') ? keys.admin : keys.tenant, example })
    }
  }
  return routes
}

t.test(`${ADMIN_CASES} generated admin bodies and ${DOOR_CASES} generated deliveries never answer 5xx, on ${testDatabaseKind}`, async (t) => {
  const { app } = await buildTestApp(t, { env: { MAILRUN_ADMIN_RATE_LIMIT: '1000000', MAILRUN_AUTH_FAILURE_LIMIT: '1000000', LOG_LEVEL: 'fatal', MAILRUN_MAX_MESSAGE_BYTES: '65536' } })
  const setup = await setUpMailbox(app, { mailbox: { senderAuth: 'off', mailgunSigningKey: 'mailgun-signing-key-for-tests', sendgridBasicAuth: { username: 'sg', password: 'sg-password' } } })
  const admin = client(app, ADMIN_KEY)
  const ids = { 'tenants.id': setup.tenantId, 'mailboxes.id': setup.mailboxId, 'senders.id': setup.senderId, 'robots.id': setup.robotId }
  const routes = await routesWithBodies(app, ids, { admin: ADMIN_KEY, tenant: setup.api.key })
  t.ok(routes.length >= 10, `${routes.length} routes take a body`)
  const fails: string[] = []
  const check = async (options: InjectOptions, what: string): Promise<void> => {
    const res = await app.inject(options)
    if (res.statusCode >= 500) {
      fails.push(`${what} → ${res.statusCode} ${res.body.slice(0, 300)}`)
      throw new Error(`${what} answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
    }
  }

  const adminCase = fc.tuple(fc.constantFrom(...routes), fc.nat()).chain(([route]) => fc.tuple(fc.constant(route), mutated(route.example), fc.oneof({ weight: 9, arbitrary: fc.constant('json') }, { weight: 1, arbitrary: fc.constantFrom('text', 'broken') })))
  await fc.assert(fc.asyncProperty(adminCase, async ([route, body, form]) => {
    const json = JSON.stringify(body) ?? 'null'
    const payload = form === 'broken' ? json.slice(0, -1) : json
    await check({ method: route.method, url: route.url, headers: { authorization: `Bearer ${route.key}`, 'content-type': form === 'text' ? 'text/plain' : 'application/json' }, payload }, `${route.method} ${route.url} ${payload.slice(0, 200)}`)
  }), { numRuns: ADMIN_CASES, seed: SEED })

  const bytes = fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a))
  const doorCase = fc.oneof(
    bytes.map((raw) => ({ door: 'mime', headers: { 'content-type': 'message/rfc822' }, payload: raw })),
    fc.tuple(fc.constantFrom('mailgun', 'sendgrid'), fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary="x"', 'application/x-www-form-urlencoded', 'multipart/mixed', 'text/plain', 'application/json'), bytes)
      .map(([door, type, raw]) => ({ door, headers: { 'content-type': type }, payload: raw })),
    fc.tuple(fc.constantFrom('mailgun', 'sendgrid'), fc.array(fc.tuple(nasty, fc.oneof(nasty, bytes)), { maxLength: 6 }), fc.boolean(), fc.boolean()).map(([door, fields, signed, asMultipart]) => {
      const all = [...(signed ? mailgunSignature('mailgun-signing-key-for-tests') : []), ...(fields as Array<[string, string | Buffer]>), ['body-mime', buildMessage({ from: 'anna@sender.example', subject: 'Monthly Report', body: 'period = 2026-11' })] as [string, string]]
      const encoded = asMultipart ? multipart(all) : { body: urlencoded(all), contentType: 'application/x-www-form-urlencoded' }
      return { door, headers: { 'content-type': encoded.contentType, authorization: `Basic ${Buffer.from('sg:sg-password').toString('base64')}` }, payload: encoded.body }
    })
  )
  await fc.assert(fc.asyncProperty(doorCase, async (delivery) => {
    await check({ method: 'POST', url: `/inbound/${setup.ingressToken}/${delivery.door}`, headers: delivery.headers, payload: delivery.payload }, `${delivery.door} door, ${delivery.headers['content-type']}`)
  }), { numRuns: DOOR_CASES, seed: SEED })

  t.same(fails, [], 'no 5xx')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the server stays healthy')
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'and ready')
  t.equal((await admin('GET', `/api/v1/tenants/${setup.tenantId}`)).statusCode, 200, 'and serves the API')
})
