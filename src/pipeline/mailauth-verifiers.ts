import { createRequire } from 'node:module'
import type { dkimVerify as DkimVerify, dmarc as Dmarc, spf as Spf } from 'mailauth'

// mailauth's entry point also loads BIMI, ARC and MTA-STS with their certificate and SVG
// libraries (about 12 MB resident, measured) that mailrun never calls; the verifiers it does call
// (DKIM, DMARC, and SPF for the SMTP door) are loaded on their own, and only when the first
// message is checked: an instance that has not received mail does not carry them (a few MB of
// heap). mailauth is pinned to 4.13 in package.json, where these are the modules its entry point
// re-exports.
const require = createRequire(import.meta.url)

export interface Verifiers { dkimVerify: typeof DkimVerify, dmarc: typeof Dmarc, spf: typeof Spf }

let loaded: Verifiers | undefined

export function mailauthVerifiers (): Verifiers {
  loaded ??= {
    dkimVerify: (require('mailauth/lib/dkim/verify') as { dkimVerify: typeof DkimVerify }).dkimVerify,
    dmarc: (require('mailauth/lib/dmarc') as { dmarc: typeof Dmarc }).dmarc,
    spf: (require('mailauth/lib/spf') as { spf: typeof Spf }).spf
  }
  return loaded
}
