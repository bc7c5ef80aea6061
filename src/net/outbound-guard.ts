import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/** Address ranges tenant-supplied hosts may not reach, or 'none' when all are allowed. */
export type OutboundDeny = BlockList | 'none'

export function parseDenyList (value: string): OutboundDeny {
  if (value.trim().toLowerCase() === 'none') return 'none'
  const list = new BlockList()
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [address, bits] = entry.split('/')
    const family = isIP(address ?? '')
    const prefix = Number(bits)
    if (family === 0 || bits === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new Error(`"${entry}" is not a CIDR`)
    }
    list.addSubnet(address as string, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
  return list
}

export class OutboundDenied extends Error {
  constructor (readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, an address this mailrun instance may not connect to (MAILRUN_OUTBOUND_DENY)`)
    this.name = 'OutboundDenied'
  }
}

function denied (deny: OutboundDeny, address: string): boolean {
  if (deny === 'none') return false
  const family = isIP(address)
  if (family === 0) return false
  // An IPv4-mapped IPv6 address reaches the IPv4 host: judge it as that.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  if (mapped !== undefined) return deny.check(mapped, 'ipv4')
  return deny.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/**
 * Checks a host a tenant typed. IP literals and names that resolve are checked against the deny
 * list; a name that does not resolve now is let through and checked again when connecting.
 */
export async function assertHostAllowed (deny: OutboundDeny, host: string): Promise<void> {
  if (deny === 'none') return
  const bare = host.replace(/^\[|\]$/g, '')
  if (isIP(bare) !== 0) {
    if (denied(deny, bare)) throw new OutboundDenied(host, bare)
    return
  }
  if (bare.toLowerCase() === 'localhost' || bare.toLowerCase().endsWith('.localhost')) throw new OutboundDenied(host, '127.0.0.1')
  let addresses: Array<{ address: string }>
  try {
    addresses = await lookup(bare, { all: true, verbatim: true })
  } catch {
    return
  }
  for (const { address } of addresses) if (denied(deny, address)) throw new OutboundDenied(host, address)
}

/** The addresses to connect to for `host`, none of them denied; for use at connect time. */
export async function resolveAllowed (deny: OutboundDeny, host: string): Promise<Array<{ address: string, family: number }>> {
  const bare = host.replace(/^\[|\]$/g, '')
  const addresses = isIP(bare) !== 0 ? [{ address: bare, family: isIP(bare) }] : await lookup(bare, { all: true, verbatim: true })
  for (const { address } of addresses) if (denied(deny, address)) throw new OutboundDenied(host, address)
  return addresses
}
