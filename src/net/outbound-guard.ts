import { lookup, Resolver } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

// Tenants type the hosts mailrun connects to (Orchestrator, IMAP, SMTP). Without a guard, a tenant
// could make mailrun reach the host itself, the cloud metadata service or the internal network,
// and read the answers back through error messages. Every host is normalised the way a URL parser
// does (127.1, 2130706433, 0x7f.1 and 0177.0.0.1 are all 127.0.0.1), every IPv6 form that carries
// an IPv4 address is judged as that address too, and the check runs on the addresses actually
// connected to, after DNS, at every connection — not only when the host was saved.

/** Denied unless MAILRUN_OUTBOUND_ALLOW opens them: loopback, unspecified, private, shared (CGNAT), link-local (cloud metadata), benchmarking, multicast, reserved; IPv6 unique-local, link-local, multicast and Teredo. */
export const DEFAULT_OUTBOUND_DENY = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16',
  '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', '2001::/32'
].join(',')

export interface OutboundPolicy {
  deny: BlockList
  /** Addresses allowed even though denied. */
  allowNets: BlockList
  /** Host names (lower case, A-labels) allowed whatever they resolve to. */
  allowHosts: Set<string>
  /** Name resolution for tenant hosts; default: the system resolver. */
  resolve: (name: string) => Promise<Array<{ address: string, family: number }>>
}

/** The policy, or 'none' when every address is allowed (MAILRUN_OUTBOUND_DENY=none). */
export type OutboundDeny = OutboundPolicy | 'none'

export class OutboundDenied extends Error {
  constructor (readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, an address this mailrun instance may not connect to (MAILRUN_OUTBOUND_DENY; MAILRUN_OUTBOUND_ALLOW opens one)`)
    this.name = 'OutboundDenied'
  }
}

function addCidrs (list: BlockList, value: string, what: string, hosts?: Set<string>): void {
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [address, bits] = entry.split('/')
    const family = isIP(address ?? '')
    if (family === 0 && hosts !== undefined && bits === undefined) {
      const name = normalizeHost(entry)
      if (name === null || isIP(name) !== 0) throw new Error(`"${entry}" is not a CIDR or a host name`)
      hosts.add(name)
      continue
    }
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128) || (bits !== undefined && !/^\d+$/.test(bits))) {
      throw new Error(`"${entry}" is not ${what}`)
    }
    list.addSubnet(address as string, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
}

export function parseDenyList (value: string): BlockList | 'none' {
  if (value.trim().toLowerCase() === 'none') return 'none'
  const list = new BlockList()
  addCidrs(list, value, 'a CIDR')
  return list
}

function systemResolve (name: string): Promise<Array<{ address: string, family: number }>> {
  return lookup(name, { all: true, verbatim: true })
}

/** A resolver asking the given DNS servers (MAILRUN_DNS_SERVERS), or the system's when there are none. */
export function resolverOn (servers: string[] | undefined): Resolver {
  const resolver = new Resolver({ timeout: 3000, tries: 2 })
  if (servers !== undefined && servers.length > 0) resolver.setServers(servers)
  return resolver
}

/** Resolution through the given DNS servers only (MAILRUN_DNS_SERVERS), A and AAAA. */
export function serverResolve (servers: string[]): (name: string) => Promise<Array<{ address: string, family: number }>> {
  const resolver = resolverOn(servers)
  return async (name) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)])
    const found = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : [])
    ]
    if (found.length > 0) return found
    if (v4.status === 'rejected' && v4.reason instanceof Error) throw v4.reason
    throw Object.assign(new Error(`no address for ${name}`), { code: 'ENOTFOUND' })
  }
}

/** A setting that does not parse; `variable` names it. */
export class OutboundSettingError extends Error {
  constructor (readonly variable: 'MAILRUN_OUTBOUND_DENY' | 'MAILRUN_OUTBOUND_ALLOW', message: string) {
    super(message)
  }
}

export function buildOutboundPolicy (options: { deny: string, allow?: string | undefined, dnsServers?: string[] | undefined }): OutboundDeny {
  const parse = <T>(variable: OutboundSettingError['variable'], read: () => T): T => {
    try {
      return read()
    } catch (error) {
      throw new OutboundSettingError(variable, (error as Error).message)
    }
  }
  const deny = parse('MAILRUN_OUTBOUND_DENY', () => parseDenyList(options.deny))
  const allowNets = new BlockList()
  const allowHosts = new Set<string>()
  if (options.allow !== undefined) parse('MAILRUN_OUTBOUND_ALLOW', () => { addCidrs(allowNets, options.allow ?? '', 'a CIDR or a host name', allowHosts) })
  if (deny === 'none') return 'none'
  return { deny, allowNets, allowHosts, resolve: options.dnsServers !== undefined && options.dnsServers.length > 0 ? serverResolve(options.dnsServers) : systemResolve }
}

/**
 * A host as a URL parser reads it: IPv4 in any of its legacy forms becomes a dotted quad, IPv6 its
 * canonical form (without brackets), a name its lower-case A-label form. Null when it is no host.
 */
export function normalizeHost (host: string): string | null {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')
  if (bare === '' || /[\s/?#@\\]/.test(bare)) return null
  try {
    const parsed = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname
    return parsed.replace(/^\[(.*)\]$/, '$1')
  } catch {
    return null
  }
}

function ipv6Groups (address: string): number[] | null {
  const canonical = normalizeHost(address)
  if (canonical === null || isIP(canonical) !== 6) return null
  const [head = '', tail = ''] = canonical.includes('::') ? canonical.split('::') : [canonical, '']
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right].map((g) => parseInt(g, 16))
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null
}

const quad = (high: number, low: number): string => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`

/** The IPv4 address an IPv6 address stands for: mapped, compatible, translated, NAT64 (64:ff9b::/96) or 6to4 (2002::/16). */
export function embeddedIPv4 (address: string): string | null {
  const g = ipv6Groups(address)
  if (g === null) return null
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, h7 = 0, h8 = 0] = g
  const zeros = (...xs: number[]): boolean => xs.every((x) => x === 0)
  if (zeros(a, b, c, d, e) && f === 0xffff) return quad(h7, h8) // ::ffff:a.b.c.d, mapped
  if (zeros(a, b, c, d) && e === 0xffff && f === 0) return quad(h7, h8) // ::ffff:0:a.b.c.d, translated
  if (zeros(a, b, c, d, e, f) && (h7 !== 0 || h8 > 1)) return quad(h7, h8) // ::a.b.c.d, compatible
  if (a === 0x64 && b === 0xff9b && zeros(c, d, e, f)) return quad(h7, h8) // NAT64
  if (a === 0x2002) return quad(b, c) // 6to4
  return null
}

// RFC 6761: localhost names are loopback, whatever a DNS server says of them.
const isLocalhost = (name: string): boolean => name === 'localhost' || name.endsWith('.localhost') || name === 'localhost.'

/** Whether connecting to this address is refused. */
export function isDenied (policy: OutboundPolicy, address: string): boolean {
  const canonical = normalizeHost(address)
  if (canonical === null) return true
  const family = isIP(canonical)
  if (family === 0) return true
  const v4 = family === 6 ? embeddedIPv4(canonical) : null
  const type = family === 4 ? 'ipv4' : 'ipv6'
  if (policy.allowNets.check(canonical, type) || (v4 !== null && policy.allowNets.check(v4, 'ipv4'))) return false
  return policy.deny.check(canonical, type) || (v4 !== null && policy.deny.check(v4, 'ipv4'))
}

/**
 * Checks a host a tenant typed, when it is saved. IP literals (in any form) and names that resolve
 * are checked; a name that does not resolve now is let through and checked again when connecting.
 */
export async function assertHostAllowed (deny: OutboundDeny, host: string): Promise<void> {
  if (deny === 'none') return
  try {
    await resolveAllowed(deny, host)
  } catch (error) {
    // A name that does not resolve now is let through: it is checked again when connecting.
    if (error instanceof OutboundDenied) throw error
  }
}

/** The addresses to connect to for `host`, none of them denied; for use at connect time. */
export async function resolveAllowed (deny: OutboundDeny, host: string): Promise<Array<{ address: string, family: number }>> {
  const name = normalizeHost(host)
  if (name === null) throw new OutboundDenied(host, 'no valid address')
  if (deny === 'none') return isIP(name) !== 0 ? [{ address: name, family: isIP(name) }] : await systemResolve(name)
  if (isIP(name) !== 0) {
    if (isDenied(deny, name)) throw new OutboundDenied(host, name)
    return [{ address: name, family: isIP(name) }]
  }
  if (deny.allowHosts.has(name)) return await deny.resolve(name)
  if (isLocalhost(name)) throw new OutboundDenied(host, '127.0.0.1')
  const addresses = await deny.resolve(name)
  for (const { address } of addresses) if (isDenied(deny, address)) throw new OutboundDenied(host, address)
  return addresses
}
