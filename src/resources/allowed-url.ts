import type { SecretBox } from '../crypto/secret-box.js'
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

/** A URL that may carry a token, checked as above and sealed, with its scheme and host to show instead. */
export async function sealedUrl (deps: { deny: OutboundDeny, secrets: SecretBox }, field: string, value: string): Promise<{ url_enc: string, url_hint: string }> {
  const url = await allowedUrl(deps.deny, field, value)
  return { url_enc: deps.secrets.seal(value), url_hint: `${url.protocol}//${url.host}` }
}
