import type { LookupAddress, LookupOptions } from 'node:dns'
import { isIP } from 'node:net'
import { Agent, type Dispatcher } from 'undici'
import { isDenied, normalizeHost, OutboundDenied, resolveAllowed, type OutboundDeny } from './outbound-guard.js'

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * An undici dispatcher for tenant-supplied hosts: every name is resolved and checked against
 * the deny list at connect time, so a name that changed its address since it was saved (DNS
 * rebinding) still cannot reach a denied range.
 */
export function outboundDispatcher (deny: OutboundDeny, options: Agent.Options = {}): Dispatcher {
  const lookup = (hostname: string, opts: LookupOptions, callback: LookupCallback): void => {
    resolveAllowed(deny, hostname).then((addresses) => {
      const wanted = opts.family === 4 || opts.family === 6 ? addresses.filter((a) => a.family === opts.family) : addresses
      if (opts.all === true) callback(null, wanted)
      else if (wanted[0] === undefined) callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '')
      else callback(null, wanted[0].address, wanted[0].family)
    }, (error: Error) => { callback(error as NodeJS.ErrnoException, '') })
  }
  return new Agent({ ...options, connect: { ...(options.connect as object | undefined), lookup } })
}

/** IP literals never go through lookup, so they are checked before the request. */
export function assertLiteralAllowed (deny: OutboundDeny, url: URL): void {
  const host = normalizeHost(url.hostname)
  if (deny === 'none' || host === null || isIP(host) === 0) return
  if (isDenied(deny, host)) throw new OutboundDenied(url.hostname, host)
}
