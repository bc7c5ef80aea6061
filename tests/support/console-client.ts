import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Client } from './admin.js'

// A browser's part in the console's forms, over inject: cookies kept, CSRF tokens read off the page.

export interface Jar { cookies: Map<string, string>, header: () => string }

export function jar (): Jar {
  const cookies = new Map<string, string>()
  return { cookies, header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
}

function keep (j: Jar, setCookie: string | string[] | undefined): void {
  for (const line of [setCookie ?? []].flat()) {
    const [pair] = line.split(';')
    const [name, ...value] = (pair ?? '').split('=')
    if (name !== undefined && name !== '') {
      if (/Expires=Thu, 01 Jan 1970/i.test(line) || /Max-Age=0/i.test(line)) j.cookies.delete(name)
      else j.cookies.set(name, value.join('='))
    }
  }
}

export const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''

export interface ConsoleClient {
  get: (j: Jar, url: string) => Promise<LightMyRequestResponse>
  post: (j: Jar, url: string, form: Record<string, string>) => Promise<LightMyRequestResponse>
  /** A signed-in session; answers the jar and the sign-in answer (303 when it worked). */
  signIn: (email: string, password: string) => Promise<{ jar: Jar, res: LightMyRequestResponse }>
}

export function consoleClient (app: FastifyInstance): ConsoleClient {
  const get = async (j: Jar, url: string): Promise<LightMyRequestResponse> => {
    const res = await app.inject({ method: 'GET', url, headers: { cookie: j.header() } })
    keep(j, res.headers['set-cookie'])
    return res
  }
  const post = async (j: Jar, url: string, form: Record<string, string>): Promise<LightMyRequestResponse> => {
    const res = await app.inject({ method: 'POST', url, headers: { cookie: j.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() })
    keep(j, res.headers['set-cookie'])
    return res
  }
  const signIn = async (email: string, password: string): Promise<{ jar: Jar, res: LightMyRequestResponse }> => {
    const j = jar()
    const page = await get(j, '/console/sign-in')
    const res = await post(j, '/console/sign-in', { _csrf: csrfOf(page.body), email, password, next: '/console' })
    return { jar: j, res }
  }
  return { get, post, signIn }
}

/** A tenant's two console admins, signed in: Ada reads English, Olga Russian. */
export async function signedInAdmins (app: FastifyInstance, api: Client): Promise<ConsoleClient & { ada: Jar, olga: Jar }> {
  await api('POST', '/api/v1/users', { email: 'ada@acme.example', name: 'Ada', role: 'admin', password: 'ada admin password' })
  const olga = (await api('POST', '/api/v1/users', { email: 'olga@acme.example', name: 'Ольга', role: 'admin', password: 'olga admin password' })).json()
  await api('PATCH', `/api/v1/users/${String(olga.id)}`, { locale: 'ru' })
  const client = consoleClient(app)
  return { ...client, ada: (await client.signIn('ada@acme.example', 'ada admin password')).jar, olga: (await client.signIn('olga@acme.example', 'olga admin password')).jar }
}
