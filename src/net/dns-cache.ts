import type { DNSResolver } from 'mailauth'
import { resolverOn } from './outbound-guard.js'

// mailauth asks for the same records for every message from a domain (the DKIM key, _dmarc, SPF):
// a burst from one sender would otherwise cost two or three round trips to the resolver per
// message. Answers are kept for a short fixed time (Node's resolver does not tell the TTL of a TXT
// record); "no such record" is an answer too (RFC 2308), but a failure to get one is never kept.

const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA'])

export interface CachingOptions {
  ttlMs?: number
  maxEntries?: number
  now?: () => number
}

interface Entry { expires: number, answer: Promise<string[][] | string[]> }

/** How long an answer is kept: what a record changed at the sender's DNS waits for. */
export const DNS_ANSWER_MS = 60_000

export function cachingResolver (resolve: DNSResolver, options: CachingOptions = {}): DNSResolver {
  const ttlMs = options.ttlMs ?? DNS_ANSWER_MS
  const maxEntries = options.maxEntries ?? 10_000
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>()
  return async (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`
    const cached = entries.get(key)
    if (cached !== undefined && cached.expires > now()) return await cached.answer
    entries.delete(key)
    // Kept while in flight as well, so concurrent look-ups of one name share a single query.
    const answer = resolve(name, rrtype)
    entries.set(key, { expires: now() + ttlMs, answer })
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
    answer.catch((error: unknown) => {
      if (!NEGATIVE.has((error as { code?: string }).code ?? '') && entries.get(key)?.answer === answer) entries.delete(key)
    })
    return await answer
  }
}

/** What mailauth resolves through: the given DNS servers (MAILRUN_DNS_SERVERS; else the system's), answers cached as above. */
export function cachedResolverOn (servers: string[] | undefined): DNSResolver {
  const resolver = resolverOn(servers)
  return cachingResolver(async (name, rrtype) => await resolver.resolve(name, rrtype) as string[] | string[][])
}
