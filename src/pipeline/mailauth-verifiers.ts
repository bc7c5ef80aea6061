import type { KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import type { dkimVerify as DkimVerify, DNSResolver, dmarc as Dmarc, spf as Spf } from 'mailauth'
import { keptPromises, type KeptPromises } from '../async/kept-promises.js'
import { DNS_ANSWER_MS } from '../net/dns-cache.js'

// mailauth's entry point also loads BIMI, ARC and MTA-STS with their certificate and SVG
// libraries (about 12 MB resident, measured) that mailrun never calls; the verifiers it does call
// (DKIM, DMARC, and SPF for the SMTP door) are loaded on their own, and only when the first
// message is checked: an instance that has not received mail does not carry them (a few MB of
// heap). mailauth is pinned to 4.13 in package.json, where these are the modules its entry point
// re-exports.
const require = createRequire(import.meta.url)

export interface Verifiers { dkimVerify: typeof DkimVerify, dmarc: typeof Dmarc, spf: typeof Spf }

interface PublicKey { publicKey: KeyObject, rr: string, modulusLength: number }
type GetPublicKey = (type: string, name: string, minBitLength: number, resolver?: DNSResolver) => Promise<PublicKey>

/** Senders whose keys are kept, per resolver: a burst from many domains stays bounded. */
const MAX_KEPT_KEYS = 1_000

/**
 * mailauth looks up and imports the signer's public key for every signature it checks
 * (crypto.createPublicKey: 3.7 % of the push path's CPU in a profile, where every message came
 * from one domain). Kept here for as long as the resolver keeps the TXT answer it came from
 * (net/dns-cache.ts), and per resolver, so what is kept is what that resolver would answer: a key
 * published anew is used within two minutes at most (the kept answer's age plus its own); a
 * failed look-up is not kept. mailauth offers no option for it: its DKIM verifier takes
 * `getPublicKey` from `lib/tools` when it is loaded, so the kept version is put there first.
 */
export function keepPublicKeys (getPublicKey: GetPublicKey, options: { ttlMs: number }): GetPublicKey {
  const kept = new WeakMap<DNSResolver, KeptPromises<PublicKey>>()
  return async (type, name, minBitLength, resolver) => {
    if (resolver === undefined) return await getPublicKey(type, name, minBitLength, resolver)
    let keys = kept.get(resolver)
    if (keys === undefined) kept.set(resolver, keys = keptPromises({ ttlMs: options.ttlMs, maxEntries: MAX_KEPT_KEYS }))
    // Kept while in flight too: messages of one burst share one look-up.
    return await keys(`${type} ${minBitLength} ${name.toLowerCase()}`, async () => await getPublicKey(type, name, minBitLength, resolver))
  }
}

let loaded: Verifiers | undefined

export function mailauthVerifiers (): Verifiers {
  if (loaded === undefined) {
    const tools = require('mailauth/lib/tools') as { getPublicKey: GetPublicKey }
    tools.getPublicKey = keepPublicKeys(tools.getPublicKey, { ttlMs: DNS_ANSWER_MS })
    loaded = {
      dkimVerify: (require('mailauth/lib/dkim/verify') as { dkimVerify: typeof DkimVerify }).dkimVerify,
      dmarc: (require('mailauth/lib/dmarc') as { dmarc: typeof Dmarc }).dmarc,
      spf: (require('mailauth/lib/spf') as { spf: typeof Spf }).spf
    }
  }
  return loaded
}
