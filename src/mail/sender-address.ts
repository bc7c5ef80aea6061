import { parseMailbox } from './address.js'
import type { ParsedMessage } from './parse-message.js'

/**
 * `address`: canonical and lower-cased; `spellings`: every form a sender may have been saved in (the
 * canonical one, and with an A-label domain, as the API accepted before it took Unicode); `domain`:
 * the A-label, for DKIM and DMARC.
 */
export type SenderAddress = { ok: true, address: string, spellings: string[], domain: string, name: string } | { ok: false, reason: string }

const ADDRESS_IN_TEXT = /[^\s@<>"']+@[^\s@<>"']+\.[^\s@<>"']+/g

/**
 * The one address a message is from, or why there is no single trustworthy one: groups,
 * several mailboxes, repeated From headers, and display names that show another address.
 */
export function senderAddress (message: ParsedMessage): SenderAddress {
  if (message.fromHeaderCount === 0 || message.from.length === 0) return { ok: false, reason: 'the message has no From address' }
  if (message.fromHeaderCount > 1) return { ok: false, reason: 'the message has more than one From header' }
  if (message.fromIsGroup) return { ok: false, reason: 'the From header is a group, not one person' }
  if (message.from.length > 1) return { ok: false, reason: 'the From header names more than one mailbox' }
  const { address, name } = message.from[0] as { address: string, name: string }
  const mailbox = parseMailbox(address)
  if (mailbox === null) return { ok: false, reason: `the From address "${address}" is not a valid email address` }
  const lower = `${mailbox.local}@${mailbox.domain}`.toLowerCase()
  // "boss@company.example" <attacker@elsewhere.example> shows one address and is from another.
  for (const shown of name.match(ADDRESS_IN_TEXT) ?? []) {
    const trimmed = shown.replace(/[.,;:]+$/, '')
    const parsed = parseMailbox(trimmed)
    if ((parsed === null ? trimmed.toLowerCase() : `${parsed.local}@${parsed.domain}`.toLowerCase()) !== lower) {
      return { ok: false, reason: `the From display name shows ${shown} but the address is ${address}` }
    }
  }
  const ascii = `${mailbox.local}@${mailbox.asciiDomain}`.toLowerCase()
  return { ok: true, address: lower, spellings: ascii === lower ? [lower] : [lower, ascii], domain: mailbox.asciiDomain, name }
}
