import { domainToASCII, domainToUnicode } from 'node:url'

// Addresses from the wider world (RFC 6532): ivan@почта.рф is a real address, and so is the same
// mailbox written ivan@xn--80a1acny.xn--p1ai. Domains are compared in one form (the Unicode form of
// their A-label, so both spellings meet), local parts after Unicode normalisation (NFC), and DNS
// look-ups (DKIM, DMARC) use the A-label.

export interface Mailbox {
  /** The local part, NFC-normalised, as written otherwise. */
  local: string
  /** The domain in lower-case Unicode form (U-labels). */
  domain: string
  /** The domain in lower-case A-label (punycode) form, for DNS. */
  asciiDomain: string
}

// \p{Cc}: no control characters.
const LOCAL = /^[^\s@<>()[\]\\,;:"\p{Cc}]+$/u
const ASCII_DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/

/** The address split and normalised, or null when it is not one mailbox address. */
export function parseMailbox (text: string): Mailbox | null {
  const at = text.lastIndexOf('@')
  if (at <= 0 || at === text.length - 1) return null
  const local = text.slice(0, at).normalize('NFC')
  const written = text.slice(at + 1).normalize('NFC')
  if (!LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..') || Buffer.byteLength(local) > 64) return null
  const asciiDomain = domainToASCII(written).toLowerCase()
  if (asciiDomain === '' || !ASCII_DOMAIN.test(asciiDomain)) return null
  return { local, domain: domainToUnicode(asciiDomain), asciiDomain }
}

/** The form mailrun stores and compares (lower-cased for comparison): local@unicode-domain. */
export function canonicalAddress (text: string): string | null {
  const mailbox = parseMailbox(text)
  return mailbox === null ? null : `${mailbox.local}@${mailbox.domain}`
}

/** What is stored for an address the API validated (idn-email): its canonical form. */
export function storedAddress (text: string): string {
  return canonicalAddress(text) ?? text
}

/** The JSON Schema format "idn-email" (RFC 6531 addresses), as the admin API validates it. */
export function isMailboxAddress (text: string): boolean {
  return parseMailbox(text) !== null
}
