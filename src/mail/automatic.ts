// RFC 3834 and common practice: mail written by a machine (auto-replies, bounces, list
// traffic) must never launch a robot, and must never be answered.

export type HeaderLookup = (name: string) => string[]

/** Why this message was sent by a machine, or null for a message a person wrote. */
export function automaticReason (header: HeaderLookup, envelopeFrom: string | null): string | null {
  const autoSubmitted = header('auto-submitted')[0]?.trim().toLowerCase()
  if (autoSubmitted !== undefined && autoSubmitted !== '' && !autoSubmitted.startsWith('no')) return `automatic message (Auto-Submitted: ${autoSubmitted})`
  const precedence = header('precedence')[0]?.trim().toLowerCase()
  if (precedence !== undefined && ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `automatic message (Precedence: ${precedence})`
  if (header('list-id').length > 0) return 'mailing-list message (List-Id)'
  if (header('list-unsubscribe').length > 0) return 'mailing-list message (List-Unsubscribe)'
  if (header('x-autoreply').length > 0 || header('x-autorespond').length > 0) return 'automatic reply (X-Autoreply)'
  const contentType = header('content-type')[0]?.toLowerCase() ?? ''
  if (contentType.startsWith('multipart/report')) return 'delivery report'
  const returnPath = header('return-path')[0]?.trim()
  if (returnPath === '<>' || envelopeFrom === '') return 'bounce (empty return path)'
  const from = (header('from')[0] ?? '').toLowerCase()
  const sender = (envelopeFrom ?? '').toLowerCase()
  if (/\b(mailer-daemon|postmaster)@/.test(from) || /^(mailer-daemon|postmaster)@/.test(sender)) return 'bounce (from MAILER-DAEMON or postmaster)'
  return null
}
