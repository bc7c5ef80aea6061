import { Resolver } from 'node:dns/promises'
import t, { type Test } from 'tap'
import { cachingResolver } from '../../src/net/dns-cache.js'
import { startDnsServer } from '../support/dns-server.js'

// Against a real DNS server on loopback, reached over UDP as mailrun reaches MAILRUN_DNS_SERVERS.
async function setUp (t: Test, records: Record<string, string>): Promise<{ server: Awaited<ReturnType<typeof startDnsServer>>, lookup: (name: string) => Promise<string[][]>, clock: { now: number } }> {
  const server = await startDnsServer(records)
  t.teardown(server.close)
  const resolver = new Resolver({ timeout: 500, tries: 1 })
  resolver.setServers([server.address])
  const clock = { now: 1_000_000 }
  const cached = cachingResolver(async (name, rrtype) => await resolver.resolve(name, rrtype) as string[][], { ttlMs: 60_000, now: () => clock.now })
  return { server, lookup: async (name) => await cached(name, 'TXT') as string[][], clock }
}

t.test('an answer is reused until it is a minute old, then asked again', async (t) => {
  const { server, lookup, clock } = await setUp(t, { 'sel._domainkey.finance.example': 'v=DKIM1; p=AAAA' })
  t.same(await lookup('sel._domainkey.finance.example'), [['v=DKIM1; p=AAAA']])
  t.same(await lookup('SEL._domainkey.Finance.example'), [['v=DKIM1; p=AAAA']], 'names compare without case')
  t.equal(server.queries(), 1)
  clock.now += 60_001
  t.same(await lookup('sel._domainkey.finance.example'), [['v=DKIM1; p=AAAA']])
  t.equal(server.queries(), 2)
})

t.test('concurrent look-ups of one name share one query', async (t) => {
  const { server, lookup } = await setUp(t, { '_dmarc.finance.example': 'v=DMARC1; p=reject' })
  const answers = await Promise.all(Array.from({ length: 8 }, async () => await lookup('_dmarc.finance.example')))
  t.same(answers, Array.from({ length: 8 }, () => [['v=DMARC1; p=reject']]))
  t.equal(server.queries(), 1)
})

t.test('"no such record" is remembered like an answer', async (t) => {
  const { server, lookup } = await setUp(t, {})
  await t.rejects(lookup('_dmarc.nowhere.example'), { code: 'ENOTFOUND' })
  await t.rejects(lookup('_dmarc.nowhere.example'), { code: 'ENOTFOUND' })
  t.equal(server.queries(), 1)
})

t.test('a failure to get an answer is not remembered: the next look-up asks again', async (t) => {
  const { server, lookup } = await setUp(t, { 'sel._domainkey.finance.example': 'v=DKIM1; p=AAAA' })
  const address = server.address
  await server.close()
  await t.rejects(lookup('sel._domainkey.finance.example'), { code: /ETIMEOUT|ECONNREFUSED/ })
  const again = await startDnsServer({ 'sel._domainkey.finance.example': 'v=DKIM1; p=BBBB' }, Number(address.split(':')[1]))
  t.teardown(again.close)
  t.same(await lookup('sel._domainkey.finance.example'), [['v=DKIM1; p=BBBB']])
})
