import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import fastifyStatic from '@fastify/static'
import view from '@fastify/view'
import { Eta } from 'eta'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createRequire } from 'node:module'
import { isDatabaseUnavailable } from '../db/errors.js'
import { checkCsrf, render, SESSION_COOKIE } from './context.js'
import accountPages from './pages/account.js'
import authPages from './pages/auth.js'
import activityPages from './pages/activity.js'
import dashboardPages from './pages/dashboard.js'
import instancePages from './pages/instance.js'
import mailboxPages from './pages/mailboxes.js'
import orchestratorPages from './pages/orchestrator.js'
import alertPages from './pages/alerts.js'
import robotPages from './pages/robots.js'
import senderPages from './pages/senders.js'
import teamPages from './pages/team.js'
import testSendPages from './pages/test-send.js'

// The web console: server-rendered pages over the same resource functions as the admin API.
// Forms work without JavaScript; the few scripts only enhance. Templates and assets ship in the
// package (console/), uPlot from its own package: nothing is fetched from a CDN.

/** The package root: the nearest directory above this module (src/console or dist/src/console) holding console/views. */
function packageRoot (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!existsSync(path.join(dir, 'console/views'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('console/views not found above the console module: is the package complete?')
    dir = parent
  }
  return dir
}
const consoleDir = path.join(packageRoot(), 'console')
const uplotDir = path.dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'))

export default async function consolePlugin (app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (_request, reply) => await reply.redirect('/console'))

  await app.register(async (scope) => {
    const secure = app.config.publicUrl.startsWith('https://')
    await scope.register(cookie)
    await scope.register(formbody, { bodyLimit: 64 * 1024 })
    await scope.register(csrf, {
      cookieKey: 'mailrun_csrf',
      cookieOpts: { path: '/console', httpOnly: true, sameSite: 'lax', secure },
      getToken: (request) => (request.body as Record<string, string> | undefined)?._csrf
    })
    await scope.register(view, {
      engine: { eta: new Eta({ autoEscape: true, autoTrim: false }) },
      templates: path.join(consoleDir, 'views'),
      layout: 'layout.eta',
      production: process.env.NODE_ENV !== 'development'
    })
    await scope.register(fastifyStatic, { root: path.join(consoleDir, 'assets'), prefix: '/console/assets/', decorateReply: false, maxAge: '1h' })
    // Browsers and bookmark tools ask for /favicon.ico whatever the page links: the same icon.
    const favicon = await readFile(path.join(consoleDir, 'assets', 'favicon.svg'))
    app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => await reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(favicon))
    await scope.register(fastifyStatic, { root: uplotDir, prefix: '/console/vendor/uplot/', decorateReply: false, allowedPath: (p) => /^\/uPlot\.(iife\.min\.js|min\.css)$/.test(p), maxAge: '1d' })

    scope.decorateRequest('consoleUser', null)
    scope.addHook('onRequest', async (request) => {
      const id = request.cookies[SESSION_COOKIE]
      request.consoleUser = id !== undefined && id !== '' ? await app.resources.sessions.user(id) : null
    })

    scope.setErrorHandler(async (error: FastifyError, request, reply) => {
      const status = error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET' ? 403 : (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500)
      if (isDatabaseUnavailable(error)) reply.header('retry-after', '5')
      if (status >= 500) request.log.error({ err: error }, 'console page failed')
      const key = error.code?.startsWith('FST_CSRF') === true ? 'error.csrf' : status === 404 ? 'error.404' : status === 403 ? 'error.403' : status >= 500 ? 'error.500' : null
      return await render(request, reply, 'error.eta', { title: 'error.title', message: key, detail: key === null ? error.message : null, requestId: request.id }, isDatabaseUnavailable(error) ? 503 : status)
    })
    // Unknown console paths get the console's 404 page, not the API's JSON.
    scope.get('/console/*', async (request, reply) => await render(request, reply, 'error.eta', { title: 'error.title', message: 'error.404', detail: null, requestId: request.id }, 404))

    await scope.register(authPages)
    // The instance pages: only a session opened with the instance-admin key; anyone else gets 404.
    await scope.register(async (pages) => {
      pages.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
        if (request.consoleUser === null && request.method === 'GET') return await reply.redirect(`/console/sign-in?next=${encodeURIComponent(request.url)}`)
        if (request.consoleUser?.instanceAdmin !== true) throw Object.assign(new Error('not found'), { statusCode: 404 })
        if (request.method !== 'GET') await checkCsrf(scope, request, reply)
      })
      await pages.register(instancePages)
    })
    await scope.register(async (pages) => {
      // Every tenant page needs a signed-in user of a tenant; a change needs the admin role and a form token.
      pages.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
        if (request.consoleUser === null) {
          if (request.method === 'GET') return await reply.redirect(`/console/sign-in?next=${encodeURIComponent(request.url)}`)
          return await reply.status(401).redirect('/console/sign-in')
        }
        if (request.consoleUser.instanceAdmin) {
          if (request.method === 'GET') return await reply.redirect('/console/admin')
          throw Object.assign(new Error('the instance admin has no tenant pages'), { statusCode: 403 })
        }
        if (request.method !== 'GET') {
          await checkCsrf(scope, request, reply)
          if (request.consoleUser.role !== 'admin' && !request.url.startsWith('/console/account')) throw Object.assign(new Error('viewers cannot change anything'), { statusCode: 403 })
        }
      })
      await pages.register(accountPages)
      await pages.register(dashboardPages)
      await pages.register(senderPages)
      await pages.register(robotPages)
      await pages.register(testSendPages)
      await pages.register(mailboxPages)
      await pages.register(orchestratorPages)
      await pages.register(alertPages)
      await pages.register(teamPages)
      await pages.register(activityPages)
    })
  })
}
