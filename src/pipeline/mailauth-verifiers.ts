import { createRequire } from 'node:module'
import type { dkimVerify as DkimVerify, dmarc as Dmarc, spf as Spf } from 'mailauth'

// mailauth's entry point also loads BIMI, ARC and MTA-STS with their certificate and SVG
// libraries (about 12 MB resident, measured) that mailrun never calls; the two verifiers it does
// call (DKIM, DMARC, and SPF for the SMTP door) are loaded on their own. mailauth is pinned to 4.13 in package.json, where these are the
// modules its entry point re-exports.
const require = createRequire(import.meta.url)

export const { dkimVerify } = require('mailauth/lib/dkim/verify') as { dkimVerify: typeof DkimVerify }
export const { dmarc } = require('mailauth/lib/dmarc') as { dmarc: typeof Dmarc }
export const { spf } = require('mailauth/lib/spf') as { spf: typeof Spf }
