import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

export const ADMIN_KEY = 'mra_test-admin-key-for-the-suite-000000'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface Client {
  (method: Method, url: string, body?: unknown): Promise<LightMyRequestResponse>
  key: string
}

/** Sends admin API requests as the holder of `key`. */
export function client (app: FastifyInstance, key: string): Client {
  const call = async (method: Method, url: string, body?: unknown): Promise<LightMyRequestResponse> => await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(body !== undefined ? { payload: body as Record<string, unknown> } : {})
  })
  return Object.assign(call, { key })
}

/** The domain a test tenant owns unless told otherwise: "Tenant A" → tenant-a.example. */
export const domainFor = (name: string): string => `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'tenant'}.example`

/** Creates a tenant (owning `domains`) and a tenant key through the API; answers a client acting as that tenant. */
export async function newTenant (app: FastifyInstance, name: string, maxMailboxes = 3, domains = [domainFor(name)]): Promise<{ id: string, api: Client }> {
  const admin = client(app, ADMIN_KEY)
  const tenant = await admin('POST', '/api/v1/tenants', { name, maxMailboxes, domains })
  if (tenant.statusCode !== 201) throw new Error(`creating tenant ${name}: ${tenant.statusCode} ${tenant.body}`)
  const id = tenant.json().id as string
  const key = await admin('POST', `/api/v1/tenants/${id}/api-keys`, { name: 'tests' })
  if (key.statusCode !== 201) throw new Error(`creating a key for ${name}: ${key.statusCode} ${key.body}`)
  return { id, api: client(app, key.json().key as string) }
}
