import type { DNSResolver } from 'mailauth'
import { pacedStream } from '../async/paced-stream.js'
import type { SmtpClient } from './inbound-mail.js'
import { mailauthVerifiers, type Verifiers } from './mailauth-verifiers.js'

// From can be forged. A message launches nothing unless the mailbox's policy says its sender
// is who the From header claims:
//   dmarc    DMARC pass, or an aligned DKIM pass, computed here from the raw message; on the SMTP
//            door, where mailrun sees the connecting client, an aligned SPF pass too
//   provider the provider's SPF/DKIM verdicts, or the Authentication-Results header of a named
//            trusted server (for raw MIME and IMAP mail)
//   off      the allow-list alone (an explicit, visible opt-out)

export type SenderAuthPolicy = 'dmarc' | 'provider' | 'off'

/** What the provider itself concluded, for the doors that post parsed fields. */
export interface ProviderVerdict {
  provider: 'mailgun' | 'sendgrid'
  spf: string | null
  /** Domains whose DKIM signature the provider checked, with its result, when it says so. */
  dkimDomains: Array<{ domain: string, result: string }>
  /** Mailgun says only pass/fail for "a" signature; the domain comes from the DKIM-Signature headers. */
  dkim: string | null
}

export interface AuthInput {
  policy: SenderAuthPolicy
  /** The original message bytes, or null when the provider posted parsed fields only. */
  raw: Buffer | null
  fromDomain: string
  envelopeFrom: string | null
  /** The SMTP client that handed the message to mailrun (SMTP door only): SPF can be checked. */
  client?: SmtpClient | null
  header: (name: string) => string[]
  provider: ProviderVerdict | null
  trustedAuthservId: string | null
}

export interface AuthVerdict {
  pass: boolean
  policy: SenderAuthPolicy
  /** How the verdict was reached, in words fit for the messages list. */
  detail: string
  dmarc?: string
  dkim?: Array<{ domain: string, result: string, aligned: boolean }>
  spf?: { domain: string, result: string, aligned: boolean }
}

/** Relaxed alignment: the same domain, or one a subdomain of the other. */
export function aligned (a: string, b: string): boolean {
  const x = a.toLowerCase().replace(/\.$/, '')
  const y = b.toLowerCase().replace(/\.$/, '')
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`)
}

async function byDmarc (input: AuthInput, resolver: DNSResolver | undefined): Promise<AuthVerdict> {
  if (input.raw === null) {
    return {
      pass: false,
      policy: 'dmarc',
      detail: 'the provider posted parsed fields, not the raw message, so DKIM cannot be checked: post the raw message (Mailgun: forward to the .../mailgun URL with "mime" routing, SendGrid: "POST the raw, full MIME message") or set the mailbox senderAuth to provider'
    }
  }
  // In pieces with turns between them: a large message's body hash must not hold everyone else's mail.
  const verified = await mailauthVerifiers().dkimVerify(pacedStream(input.raw), { ...(resolver !== undefined ? { resolver } : {}), ...(input.envelopeFrom ? { sender: input.envelopeFrom } : {}) })
  // mailauth reports an unsigned message as one result with status "none": that is no signature.
  const dkim = (verified.results ?? []).filter((r) => r.status.result !== 'none' || (r.signingDomain ?? '') !== '').map((r) => ({
    domain: r.signingDomain ?? '',
    result: r.status.result,
    aligned: r.status.result === 'pass' && aligned(r.signingDomain ?? '', input.fromDomain)
  }))
  const spfCheck = await checkSpf(input, resolver)
  const result = await mailauthVerifiers().dmarc({
    headerFrom: input.fromDomain,
    spfDomains: spfCheck?.result === 'pass' ? [spfCheck.domain] : [],
    dkimDomains: (verified.results ?? []).filter((r) => r.status.result === 'pass').map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized })),
    ...(resolver !== undefined ? { resolver } : {})
  } as Parameters<Verifiers['dmarc']>[0])
  const dmarcResult = result === false ? 'none' : String(result.status?.result ?? 'none')
  const alignedPass = dkim.find((d) => d.aligned)
  const spfPart = spfCheck !== null ? { spf: spfCheck } : {}
  if (dmarcResult === 'pass' || alignedPass !== undefined || spfCheck?.aligned === true) {
    const how = alignedPass !== undefined || spfCheck?.aligned !== true
      ? `DKIM signature of ${alignedPass?.domain ?? input.fromDomain} verified`
      : `SPF pass for ${spfCheck.domain} from ${input.client?.ip ?? '?'}`
    return { pass: true, policy: 'dmarc', dmarc: dmarcResult, dkim, ...spfPart, detail: `${how} (DMARC ${dmarcResult})` }
  }
  const seen = dkim.length === 0 ? 'the message has no DKIM signature' : `DKIM: ${dkim.map((d) => `${d.domain} ${d.result}${d.result === 'pass' && !d.aligned ? ' (not aligned)' : ''}`).join(', ')}`
  const spfSeen = spfCheck !== null ? `; SPF ${spfCheck.result} for ${spfCheck.domain}${spfCheck.result === 'pass' && !spfCheck.aligned ? ' (not aligned)' : ''}` : ''
  return { pass: false, policy: 'dmarc', dmarc: dmarcResult, dkim, ...spfPart, detail: `could not verify that the message is from ${input.fromDomain}: ${seen}${spfSeen}; DMARC ${dmarcResult}` }
}

/** SPF of the envelope sender (or of the HELO name for a bounce), for mail mailrun took over SMTP itself. */
async function checkSpf (input: AuthInput, resolver: DNSResolver | undefined): Promise<{ domain: string, result: string, aligned: boolean } | null> {
  if (input.client == null || input.envelopeFrom === null) return null
  const checked = await mailauthVerifiers().spf({
    sender: input.envelopeFrom === '' ? undefined : input.envelopeFrom,
    ip: input.client.ip,
    helo: input.client.helo,
    mta: 'mailrun',
    ...(resolver !== undefined ? { resolver } : {})
  } as Parameters<Verifiers['spf']>[0])
  const domain = String(checked.domain ?? '')
  const result = String(checked.status?.result ?? 'none')
  return { domain, result, aligned: result === 'pass' && domain !== '' && aligned(domain, input.fromDomain) }
}

function signedDomains (header: AuthInput['header']): string[] {
  return header('dkim-signature').map((v) => /(?:^|;)\s*d\s*=\s*([^;\s]+)/i.exec(v)?.[1] ?? '').filter(Boolean)
}

function byProviderVerdict (input: AuthInput, verdict: ProviderVerdict): AuthVerdict {
  const spfPass = verdict.spf?.toLowerCase() === 'pass'
  const envelopeDomain = input.envelopeFrom?.split('@').pop() ?? ''
  if (spfPass && envelopeDomain !== '' && aligned(envelopeDomain, input.fromDomain)) {
    return { pass: true, policy: 'provider', detail: `${verdict.provider} says SPF pass for ${envelopeDomain}, aligned with ${input.fromDomain}` }
  }
  const dkimDomain = verdict.dkimDomains.find((d) => d.result.toLowerCase() === 'pass' && aligned(d.domain, input.fromDomain))
  if (dkimDomain !== undefined) return { pass: true, policy: 'provider', detail: `${verdict.provider} says DKIM pass for ${dkimDomain.domain}` }
  if (verdict.dkim?.toLowerCase() === 'pass') {
    const domain = signedDomains(input.header).find((d) => aligned(d, input.fromDomain))
    if (domain !== undefined) return { pass: true, policy: 'provider', detail: `${verdict.provider} says DKIM pass; the signature is by ${domain}` }
  }
  return {
    pass: false,
    policy: 'provider',
    detail: `${verdict.provider} reports SPF ${verdict.spf ?? 'none'}, DKIM ${verdict.dkimDomains.map((d) => `${d.domain} ${d.result}`).join(', ') || (verdict.dkim ?? 'none')}: nothing aligned with ${input.fromDomain} passed`
  }
}

/** The topmost Authentication-Results of the trusted server: the ones below it could be forged. */
function byAuthenticationResults (input: AuthInput): AuthVerdict {
  if (input.trustedAuthservId === null) {
    return { pass: false, policy: 'provider', detail: 'senderAuth is provider but the mailbox names no trustedAuthservId, so no Authentication-Results header can be trusted' }
  }
  const trusted = input.header('authentication-results').find((v) => v.split(';')[0]?.trim().split(/\s+/)[0]?.toLowerCase() === input.trustedAuthservId?.toLowerCase())
  if (trusted === undefined) return { pass: false, policy: 'provider', detail: `no Authentication-Results header from ${input.trustedAuthservId}` }
  const dmarcPass = /\bdmarc\s*=\s*pass\b[^;]*header\.from\s*=\s*([^\s;]+)/i.exec(trusted)
  if (dmarcPass !== null && aligned(dmarcPass[1] as string, input.fromDomain)) return { pass: true, policy: 'provider', detail: `${input.trustedAuthservId} says DMARC pass` }
  for (const match of trusted.matchAll(/\bdkim\s*=\s*pass\b[^;]*header\.d\s*=\s*([^\s;]+)/gi)) {
    if (aligned(match[1] as string, input.fromDomain)) return { pass: true, policy: 'provider', detail: `${input.trustedAuthservId} says DKIM pass for ${match[1] as string}` }
  }
  return { pass: false, policy: 'provider', detail: `${input.trustedAuthservId} reports no DMARC or aligned DKIM pass for ${input.fromDomain}` }
}

export async function authenticateSender (input: AuthInput, resolver?: DNSResolver): Promise<AuthVerdict> {
  switch (input.policy) {
    case 'off':
      return { pass: true, policy: 'off', detail: 'sender authentication is off for this mailbox: the allow-list alone decides' }
    case 'dmarc':
      return await byDmarc(input, resolver)
    case 'provider':
      return input.provider !== null ? byProviderVerdict(input, input.provider) : byAuthenticationResults(input)
  }
}
