import { consoleText } from '../notify/history-text.js'
import { problemText } from '../commands/problem-text.js'
import type { Problem } from '../db/schema.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ConsoleUser } from '../resources/sessions.js'
import { noticeText } from './error-text.js'
import { dictionaries, localeFromHeader, translator, type Locale, type MessageKey, type Translate } from './i18n.js'

// What every console page needs to know about its request, and how it renders.

declare module 'fastify' {
  interface FastifyRequest {
    consoleUser: ConsoleUser | null
  }
}

export const SESSION_COOKIE = 'mailrun_session'

export function localeOf (request: FastifyRequest): Locale {
  return request.consoleUser?.locale ?? localeFromHeader(request.headers['accept-language'])
}

/** The signed-in user; only behind the session guard. */
export function userOf (request: FastifyRequest): ConsoleUser {
  if (request.consoleUser === null) throw new Error('no console user on this request')
  return request.consoleUser
}

const when = (locale: Locale) => (iso: string | null): string => iso === null ? '—' : new Date(iso).toLocaleString(locale === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' }) + ' UTC'

function wordOf (t: Translate, key: string, fallback: string): string {
  return key in dictionaries.en ? t(key as MessageKey) : fallback
}

/** Renders a page inside the layout, with the user, the words of their language and a CSRF token for its forms. */
export async function render (request: FastifyRequest, reply: FastifyReply, page: string, data: Record<string, unknown>, status = 200): Promise<FastifyReply> {
  const locale = localeOf(request)
  const t: Translate = translator(locale)
  const csrf = await reply.generateCsrf()
  return await reply.status(status).header('cache-control', 'no-store').view(page, {
    ...data,
    t,
    locale,
    csrf,
    user: request.consoleUser,
    path: request.url.split('?')[0],
    when: when(locale),
    // A sender's problem in the console user's language, from the same catalogue as the replies.
    problem: (p: Problem) => problemText(p, locale),
    // What became of a message or a launch (written in English where it happened), in the user's language.
    reason: (text: string | null) => text === null ? '' : consoleText(text, locale),
    json: (value: unknown) => JSON.stringify(value, null, 2),
    // The audit trail's words: known actions and resources in the user's language, others as recorded.
    auditAction: (action: string) => wordOf(t, `audit.action.${action}`, action),
    auditResource: (resource: string) => wordOf(t, `audit.resource.${resource}`, resource),
    // Sender verdicts, mailbox warnings and reply errors, written where they happened.
    say: (text: string | null | undefined) => text === null || text === undefined ? '' : noticeText(text, locale),
    replyWord: (kind: 'kind' | 'state', value: string) => wordOf(t, `reply.${kind}.${value}`, value)
  })
}

/** The form's token against the cookie's secret; a missing or wrong one is a 403 the error page explains. */
export async function checkCsrf (scope: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await new Promise<void>((resolve, reject) => { scope.csrfProtection(request, reply, (error?: Error) => { if (error !== undefined) reject(error); else resolve() }) })
}
