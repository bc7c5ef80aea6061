import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MIN_PASSWORD_LENGTH } from '../../auth/passwords.js'
import { createHash } from 'node:crypto'
import { createFailureLimiter } from '../../auth/failure-limiter.js'
import { sharedFailures } from '../../auth/shared-failures.js'
import { SESSION_TTL_MS } from '../../resources/sessions.js'
import { checkCsrf, render, SESSION_COOKIE, userOf } from '../context.js'

// Signing in and out, and choosing a password from a one-time link. Failed sign-ins are counted
// per client address (with the API's failed credentials) and per account, so guessing is slow
// from many addresses too.

const ACCOUNT_FAILURES_PER_MINUTE = 10

/** Only a path inside the console: a sign-in link must not send the user elsewhere. */
/**
 * Where to go after signing in: a console path only, of printable ASCII (a CR or LF would split
 * the Location header, and Node refuses such a header with a 500), never another site.
 */
function safeNext (next: unknown): string {
  return typeof next === 'string' && /^\/console(\/[^/\\]|$|\?)/.test(next) && !next.includes('//') && /^[\x21-\x7e]*$/.test(next) ? next : '/console'
}

export default async function authPages (app: FastifyInstance): Promise<void> {
  const { sessions } = app.resources
  // Shared through the database like the per-address count; the account is kept there hashed.
  const perAccount = createFailureLimiter({
    max: ACCOUNT_FAILURES_PER_MINUTE,
    store: sharedFailures(app.db),
    storeKey: (account) => `account:${createHash('sha256').update(account).digest('hex')}`,
    onStoreError: (error) => { app.log.warn({ err: error }, 'a failed sign-in could not be counted in the database; counted in this process only') }
  })
  const secure = app.config.publicUrl.startsWith('https://')
  const startSession = (reply: FastifyReply, id: string): FastifyReply =>
    reply.setCookie(SESSION_COOKIE, id, { path: '/console', httpOnly: true, sameSite: 'lax', secure, maxAge: SESSION_TTL_MS / 1000 })

  app.get('/console/sign-in', async (request: FastifyRequest<{ Querystring: { next?: string } }>, reply) => {
    if (request.consoleUser !== null) return await reply.redirect(request.consoleUser.instanceAdmin ? '/console/admin' : safeNext(request.query.next))
    return await render(request, reply, 'sign-in.eta', { email: '', error: null, next: safeNext(request.query.next) })
  })

  app.post('/console/sign-in', async (request: FastifyRequest<{ Body: Record<string, string | undefined> }>, reply) => {
    await checkCsrf(app, request, reply)
    const email = String(request.body.email ?? '').slice(0, 254)
    const password = String(request.body.password ?? '').slice(0, 200)
    const next = safeNext(request.body.next)
    const account = email.trim().toLowerCase()
    const wait = app.failures.blocked(request.ip) ?? perAccount.blocked(account)
    if (wait !== null) {
      reply.header('retry-after', String(wait))
      return await render(request, reply, 'sign-in.eta', { email, error: { key: 'auth.throttled', values: { s: wait } }, next }, 429)
    }
    const session = await sessions.signIn(email, password)
    if (session === null) {
      app.failures.fail(request.ip)
      perAccount.fail(account)
      return await render(request, reply, 'sign-in.eta', { email, error: { key: 'auth.wrong' }, next }, 401)
    }
    return await startSession(reply, session).redirect(next, 303)
  })

  // The instance admin signs in with the instance-admin key, counted against the address like any key.
  app.post('/console/sign-in/admin', async (request: FastifyRequest<{ Body: Record<string, string | undefined> }>, reply) => {
    await checkCsrf(app, request, reply)
    const wait = app.failures.blocked(request.ip)
    if (wait !== null) {
      reply.header('retry-after', String(wait))
      return await render(request, reply, 'sign-in.eta', { email: '', error: { key: 'auth.throttled', values: { s: wait } }, next: '/console' }, 429)
    }
    const session = await sessions.signInAdmin(String(request.body.adminKey ?? '').slice(0, 500))
    if (session === null) {
      app.failures.fail(request.ip)
      return await render(request, reply, 'sign-in.eta', { email: '', error: { key: 'auth.wrongKey' }, next: '/console' }, 401)
    }
    return await startSession(reply, session).redirect('/console/admin', 303)
  })

  app.post('/console/sign-out', async (request, reply) => {
    await checkCsrf(app, request, reply)
    const id = request.cookies[SESSION_COOKIE]
    if (id !== undefined) await sessions.signOut(id)
    return await reply.clearCookie(SESSION_COOKIE, { path: '/console' }).redirect('/console/sign-in', 303)
  })

  app.post('/console/sign-out-everywhere', async (request, reply) => {
    await checkCsrf(app, request, reply)
    if (request.consoleUser?.instanceAdmin === true) await sessions.signOutEveryAdmin()
    else if (request.consoleUser !== null) await sessions.signOutEverywhere(userOf(request).id)
    return await reply.clearCookie(SESSION_COOKIE, { path: '/console' }).redirect('/console/sign-in', 303)
  })

  app.get('/console/set-password/:token', async (request: FastifyRequest<{ Params: { token: string } }>, reply) => {
    const valid = await sessions.linkValid(request.params.token)
    return await render(request, reply, 'set-password.eta', { valid, error: null, min: MIN_PASSWORD_LENGTH }, valid ? 200 : 410)
  })

  app.post('/console/set-password/:token', async (request: FastifyRequest<{ Params: { token: string }, Body: Record<string, string | undefined> }>, reply) => {
    await checkCsrf(app, request, reply)
    const password = String(request.body.password ?? '')
    if (password.length < MIN_PASSWORD_LENGTH || password.length > 200) {
      return await render(request, reply, 'set-password.eta', { valid: true, error: { key: 'auth.tooShort', values: { n: MIN_PASSWORD_LENGTH } }, min: MIN_PASSWORD_LENGTH }, 400)
    }
    const session = await sessions.setPassword(request.params.token, password)
    if (session === null) return await render(request, reply, 'set-password.eta', { valid: false, error: null, min: MIN_PASSWORD_LENGTH }, 410)
    return await startSession(reply, session).redirect('/console', 303)
  })
}
