// A canary is recognised by one header carrying its id and a random token known only to the
// database: a message that merely looks like a canary (a forged or replayed header) is not one,
// and goes through the pipeline as any other mail.

export const CANARY_HEADER = 'X-Mailrun-Canary'

const HEAD_LIMIT = 64 * 1024
const PATTERN = /^x-mailrun-canary:[ \t]*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([A-Za-z0-9_-]{22,64})[ \t]*\r?$/im

export interface CanaryMark { id: string, token: string }

/** The canary header of a raw message, read from its header block only (bounded), or null. */
export function readCanaryHeader (raw: Buffer): CanaryMark | null {
  const head = raw.subarray(0, HEAD_LIMIT).toString('latin1')
  const end = head.search(/\r?\n\r?\n/)
  // Unfolded first: a long header value is folded onto a second line (nodemailer does, MTAs may).
  const match = PATTERN.exec((end === -1 ? head : head.slice(0, end)).replace(/\r?\n[ \t]+/g, ' '))
  return match === null ? null : { id: match[1] as string, token: match[2] as string }
}

export const canaryHeaderValue = (mark: CanaryMark): string => `${mark.id}:${mark.token}`
