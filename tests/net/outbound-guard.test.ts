import { createServer, type Server } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { assertHostAllowed, buildOutboundPolicy, DEFAULT_OUTBOUND_DENY, OutboundDenied, resolveAllowed } from '../../src/net/outbound-guard.js'
import { buildTestApp } from '../support/app.js'
import { testDatabaseKind } from '../support/database.js'
import { startDnsServer } from '../support/dns-server.js'
import { setUpMailbox } from '../support/tenant-setup.js'

// Every way of writing a denied address is refused when it is saved and when it would be
// connected to. Nothing here connects anywhere but 127.0.0.1: refusals are asserted, never tried.

const denied = [
  // loopback, in the legacy IPv4 forms a URL parser and inet_aton accept
  '127.0.0.1', '127.1', '127.0.1', '2130706433', '0x7f000001', '0x7f.1', '0177.0.0.1', '0177.1', '127.255.255.254', '017700000001',
  // unspecified: reaches loopback on Linux
  '0.0.0.0', '0', '::', '[::]', '0:0:0:0:0:0:0:0',
  // IPv6 loopback
  '::1', '[::1]', '0:0:0:0:0:0:0:1', '[0000::1]',
  // IPv4 carried in IPv6: mapped, translated, compatible, NAT64, 6to4
  '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '::ffff:169.254.169.254', '[::ffff:10.0.0.1]', '[::ffff:0:127.0.0.1]',
  '[::7f00:1]', '[::127.0.0.1]', '[::10.1.2.3]',
  '[64:ff9b::127.0.0.1]', '[64:ff9b::7f00:1]', '[64:ff9b::a9fe:a9fe]',
  '[2002:7f00:1::]', '[2002:a9fe:a9fe::1]', '[2002:c0a8:101::]',
  // cloud metadata
  '169.254.169.254', '[fd00:ec2::254]', '100.100.100.200',
  // private and shared ranges, IPv6 unique-local and link-local (with a zone)
  '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '[fc00::1]', '[fd12:3456::1]', '[fe80::1]', 'fe80::1%eth0',
  // multicast, broadcast
  '224.0.0.1', '255.255.255.255',
  // names
  'localhost', 'LOCALHOST', 'foo.localhost', 'loop.evil.test', 'meta.evil.test', 'v6.evil.test', 'mapped.evil.test', 'private.evil.test', 'mixed.evil.test'
]

t.test('at least 40 forms of denied addresses are refused at save and at connect', async (t) => {
  const dns = await startDnsServer({
    'loop.evil.test': { A: ['127.0.0.1'] },
    'meta.evil.test': { A: ['169.254.169.254'] },
    'v6.evil.test': { AAAA: ['::1'] },
    'mapped.evil.test': { AAAA: ['::ffff:127.0.0.1'] },
    'private.evil.test': { A: ['10.0.0.5'] },
    'mixed.evil.test': { A: ['192.0.2.1', '127.0.0.1'] },
    'public.example.test': { A: ['192.0.2.10'] },
    'orchestrator.corp.test': { A: ['10.99.0.1'] },
    'rebind.evil.test': { A: ['192.0.2.44'] }
  })
  t.teardown(dns.close)
  const policy = buildOutboundPolicy({ deny: DEFAULT_OUTBOUND_DENY, dnsServers: [dns.address] })
  t.ok(denied.length >= 40, `${denied.length} forms`)
  for (const host of denied) {
    await t.rejects(assertHostAllowed(policy, host), OutboundDenied, `${host}: refused when saved`)
    await t.rejects(resolveAllowed(policy, host), OutboundDenied, `${host}: refused when connecting`)
  }
  for (const host of ['192.0.2.10', '[2001:db8::1]', 'public.example.test', '8.8.8.8']) {
    await t.resolves(assertHostAllowed(policy, host), `${host}: allowed`)
    t.ok((await resolveAllowed(policy, host)).length > 0, `${host}: resolves to an allowed address (not connected to)`)
  }

  t.test('MAILRUN_OUTBOUND_ALLOW opens exactly what it names', async (t) => {
    const open = buildOutboundPolicy({ deny: DEFAULT_OUTBOUND_DENY, allow: '10.20.0.0/16,orchestrator.corp.test', dnsServers: [dns.address] })
    await t.resolves(assertHostAllowed(open, '10.20.1.1'))
    await t.resolves(resolveAllowed(open, '[::ffff:10.20.1.1]'), 'in any form')
    await t.resolves(resolveAllowed(open, 'orchestrator.corp.test'), 'a host name, whatever it resolves to')
    await t.rejects(resolveAllowed(open, '10.21.0.1'), OutboundDenied, 'the rest of the range stays closed')
    await t.rejects(resolveAllowed(open, 'private.evil.test'), OutboundDenied)
  })

  t.test('a name that changes its answer between save and connect is refused when connecting', async (t) => {
    await t.resolves(assertHostAllowed(policy, 'rebind.evil.test'), 'saved while it answers a public address')
    dns.set('rebind.evil.test', { A: ['127.0.0.1'] })
    await t.rejects(resolveAllowed(policy, 'rebind.evil.test'), OutboundDenied)
  })
})

async function listener (host: string): Promise<{ server: Server, port: number, connections: () => number }> {
  let count = 0
  const server = createServer((socket) => { count++; socket.destroy() })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return { server, port: (server.address() as AddressInfo).port, connections: () => count }
}

t.test(`through the API: refused at save, refused at connect without a connection, redirects unfollowed, on ${testDatabaseKind}`, async (t) => {
  const trap = await listener('127.0.0.1')
  t.teardown(() => { trap.server.close() })
  const dns = await startDnsServer({ 'rebind.evil.test': { A: ['192.0.2.44'] } })
  t.teardown(dns.close)
  const { app, database } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: DEFAULT_OUTBOUND_DENY, MAILRUN_DNS_SERVERS: dns.address } })
  const setup = await setUpMailbox(app)
  const connection = { kind: 'onprem', authMode: 'token', accessToken: 'a-token', defaultFolder: 'Finance' }

  for (const url of [`http://[::]:${trap.port}/`, `http://2130706433:${trap.port}/`, `http://[::ffff:7f00:1]:${trap.port}/`, `http://[64:ff9b::127.0.0.1]:${trap.port}/`, `http://0x7f.1:${trap.port}/`, `http://10.0.0.1:${trap.port}/`]) {
    const res = await setup.api('PUT', '/api/v1/orchestrator', { ...connection, url })
    t.equal(res.statusCode, 400, `Orchestrator ${url} refused at save`)
  }
  for (const host of ['[::]', '::', '0.0.0.0', '127.1', '[::127.0.0.1]', '192.168.0.10']) {
    const res = await setup.api('PATCH', `/api/v1/mailboxes/${setup.mailboxId}`, { imap: { host, port: trap.port, user: 'u', password: 'p' } })
    t.equal(res.statusCode, 400, `IMAP host ${host} refused at save`)
  }

  // Saved while it answered a public address (nothing is connected to at save), then rebound.
  t.equal((await setup.api('PUT', '/api/v1/orchestrator', { ...connection, url: `http://rebind.evil.test:${trap.port}/` })).statusCode, 200)
  dns.set('rebind.evil.test', { A: ['127.0.0.1'] })
  const rebound = (await setup.api('POST', '/api/v1/orchestrator/test')).json()
  t.equal(rebound.ok, false)
  t.match(rebound.steps.find((s: { ok: boolean }) => !s.ok), { ok: false, detail: /rebind\.evil\.test resolves to 127\.0\.0\.1, an address this mailrun instance may not connect to/ }, 'refused after DNS, at connect')

  // Written past the API (as an older version might have stored it): refused when connecting.
  await database.db.updateTable('orchestrator_connections').set({ url: `http://[::ffff:127.0.0.1]:${trap.port}` }).where('tenant_id', '=', setup.tenantId).execute()
  const literal = (await setup.api('POST', '/api/v1/orchestrator/test')).json()
  t.equal(literal.ok, false)
  t.match(literal.steps.find((s: { ok: boolean }) => !s.ok), { ok: false, detail: /may not connect to/ }, 'an IPv4-mapped literal refused at connect')
  t.equal(trap.connections(), 0, 'no connection ever reached the loopback listener')
})

t.test(`an allowed Orchestrator that redirects to a denied address is not followed, on ${testDatabaseKind}`, async (t) => {
  const trap = await listener('127.0.0.2')
  t.teardown(() => { trap.server.close() })
  const redirector = createHttpServer((_req, res) => { res.writeHead(302, { location: `http://127.0.0.2:${trap.port}/identity/connect/token` }).end() })
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { redirector.close() })
  const { app } = await buildTestApp(t, { env: { MAILRUN_OUTBOUND_DENY: DEFAULT_OUTBOUND_DENY, MAILRUN_OUTBOUND_ALLOW: '127.0.0.1/32' } })
  const setup = await setUpMailbox(app)
  const port = (redirector.address() as AddressInfo).port
  t.equal((await setup.api('PUT', '/api/v1/orchestrator', { kind: 'onprem', url: `http://127.0.0.1:${port}`, authMode: 'client_credentials', clientId: 'c', clientSecret: 's', defaultFolder: 'Finance' })).statusCode, 200, '127.0.0.1 is allowed on purpose')
  const check = (await setup.api('POST', '/api/v1/orchestrator/test')).json()
  t.match(check, { ok: false, steps: [{ step: 'authenticate', ok: false }] })
  t.equal(trap.connections(), 0, 'the redirect to 127.0.0.2 was not followed')
})
