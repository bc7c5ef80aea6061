import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createControlRoomClient } from '../../src/targets/automation-anywhere/control-room-client.js'

// The Control Room client facing a sign-in answer that is not the Control Room's JSON (a proxy's
// HTML page answered 200): it says the sign-in was refused, with the status, rather than a JSON
// parser's error.

t.test('a sign-in answered with an HTML page is a refused sign-in, in words', async (t) => {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' })
    response.end('<html><body>Please sign in to the corporate proxy</body></html>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const client = createControlRoomClient({ deny: 'none', timeoutMs: 5_000 })
  t.teardown(client.close)
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const steps = await client.probe({ id: 'c1', controlRoomUrl: url, username: 'mailrun-bot', apiKey: 'key' })
  t.match(steps, [{ step: 'sign in', ok: false, detail: /^the Control Room refused the sign-in of mailrun-bot \(200\): <html><body>Please sign in to the corporate proxy/ }])
  t.notMatch(steps[0]?.detail, /JSON|Unexpected token/)
})
