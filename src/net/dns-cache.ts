import type { DNSResolver } from 'mailauth'
import { keptPromises } from '../async/kept-promises.js'
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

/** How long an answer is kept: what a record changed at the sender's DNS waits for. */
export const DNS_ANSWER_MS = 60_000

export function cachingResolver (resolve: DNSResolver, options: CachingOptions = {}): DNSResolver {
  const kept = keptPromises<string[][] | string[]>({
    ttlMs: options.ttlMs ?? DNS_ANSWER_MS,
    maxEntries: options.maxEntries ?? 10_000,
    keepFailure: (error) => NEGATIVE.has((error as { code?: string }).code ?? ''),
    ...(options.now !== undefined ? { now: options.now } : {})
  })
  // Concurrent look-ups of one name share a single query (the promise is kept while in flight).
  return async (name, rrtype) => await kept(`${rrtype} ${name.toLowerCase()}`, async () => await resolve(name, rrtype))
}

/** What mailauth resolves through: the given DNS servers (MAILRUN_DNS_SERVERS; else the system's), answers cached as above. */
export function cachedResolverOn (servers: string[] | undefined): DNSResolver {
  const resolver = resolverOn(servers)
  return cachingResolver(async (name, rrtype) => await resolver.resolve(name, rrtype) as string[] | string[][])
}
