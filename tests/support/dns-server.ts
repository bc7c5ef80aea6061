import dgram from 'node:dgram'
import dnsPacket from 'dns-packet'

/** A TXT value, or addresses for A and AAAA questions. */
export type DnsRecord = string | { A?: string[], AAAA?: string[] }

export interface DnsServer {
  /** host:port, as MAILRUN_DNS_SERVERS takes it. */
  address: string
  queries: () => number
  /** Changes (or adds) the answer for a name, as a DNS operator would. */
  set: (name: string, record: DnsRecord) => void
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
 * An authoritative DNS server on 127.0.0.1 answering TXT, A and AAAA questions from `records`
 * (name → value), NXDOMAIN for any other name. mailrun reaches it through MAILRUN_DNS_SERVERS, over
 * real UDP, as it would reach the operator's resolver.
 */
export async function startDnsServer (records: Record<string, DnsRecord>, port = 0): Promise<DnsServer> {
  const table = new Map<string, DnsRecord>(Object.entries(records).map(([name, value]) => [name.toLowerCase(), value]))
  const socket = dgram.createSocket('udp4')
  let count = 0
  let closed = false
  socket.on('message', (message, peer) => {
    let query: dnsPacket.Packet
    try { query = dnsPacket.decode(message) } catch { return }
    count++
    const question = query.questions?.[0]
    const record = question === undefined ? undefined : table.get(question.name.toLowerCase())
    const answers: dnsPacket.Answer[] = []
    if (question !== undefined && record !== undefined) {
      if (typeof record === 'string' && question.type === 'TXT') answers.push({ type: 'TXT', name: question.name, ttl: 300, data: characterStrings(record) })
      if (typeof record !== 'string' && question.type === 'A') for (const data of record.A ?? []) answers.push({ type: 'A', name: question.name, ttl: 0, data })
      if (typeof record !== 'string' && question.type === 'AAAA') for (const data of record.AAAA ?? []) answers.push({ type: 'AAAA', name: question.name, ttl: 0, data })
    }
    // A name with other records answers "no data" (an empty answer); an unknown name NXDOMAIN.
    const answer = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (record === undefined ? NXDOMAIN : 0),
      questions: query.questions,
      answers
    })
    socket.send(answer, peer.port, peer.address)
  })
  await new Promise<void>((resolve) => { socket.bind(port, '127.0.0.1', resolve) })
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries: () => count,
    set: (name, record) => { table.set(name.toLowerCase(), record) },
    close: async () => {
      if (closed) return
      closed = true
      await new Promise<void>((resolve) => { socket.close(() => { resolve() }) })
    }
  }
}
