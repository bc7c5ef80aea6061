import dgram from 'node:dgram'
import dnsPacket from 'dns-packet'

export interface DnsServer {
  /** host:port, as MAILRUN_DNS_SERVERS takes it. */
  address: string
  queries: () => number
  close: () => Promise<void>
}

const NXDOMAIN = 3

// A TXT character-string holds at most 255 bytes; a 2048-bit DKIM key needs two.
function characterStrings (value: string): string[] {
  const parts: string[] = []
  for (let i = 0; i < value.length; i += 255) parts.push(value.slice(i, i + 255))
  return parts
}

/**
 * An authoritative DNS server on 127.0.0.1 answering TXT questions from `records` (name → value),
 * NXDOMAIN for anything else. mailrun reaches it through MAILRUN_DNS_SERVERS, over real UDP, as it
 * would reach the operator's resolver.
 */
export async function startDnsServer (records: Record<string, string>, port = 0): Promise<DnsServer> {
  const table = new Map(Object.entries(records).map(([name, value]) => [name.toLowerCase(), value]))
  const socket = dgram.createSocket('udp4')
  let count = 0
  let closed = false
  socket.on('message', (message, peer) => {
    let query: dnsPacket.Packet
    try { query = dnsPacket.decode(message) } catch { return }
    count++
    const question = query.questions?.[0]
    const value = question?.type === 'TXT' ? table.get(question.name.toLowerCase()) : undefined
    const answer = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (value === undefined ? NXDOMAIN : 0),
      questions: query.questions,
      answers: value === undefined || question === undefined ? [] : [{ type: 'TXT', name: question.name, ttl: 300, data: characterStrings(value) }]
    })
    socket.send(answer, peer.port, peer.address)
  })
  await new Promise<void>((resolve) => { socket.bind(port, '127.0.0.1', resolve) })
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries: () => count,
    close: async () => {
      if (closed) return
      closed = true
      await new Promise<void>((resolve) => { socket.close(() => { resolve() }) })
    }
  }
}
