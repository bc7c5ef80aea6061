import { fieldError } from '../errors.js'
import { assertHostAllowed, OutboundDenied, type OutboundDeny } from '../net/outbound-guard.js'

/**
 * A URL a tenant typed, parsed and checked against the outbound deny list at saving (and again at
 * every connection). The schema's pattern admits what WHATWG URL parsing can still refuse (a %09
 * in the host, an open bracket): refused here as the field it is, not as a fault of ours.
 */
export async function allowedUrl (deny: OutboundDeny, field: string, value: string): Promise<URL> {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw fieldError(field, 'is not a valid URL: write it as https://host[:port][/path]')
  }
  try {
    await assertHostAllowed(deny, url.hostname)
  } catch (error) {
    if (error instanceof OutboundDenied) throw fieldError(field, `may not point there: ${error.message}`)
    throw error
  }
  return url
}
