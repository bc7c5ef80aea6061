import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'

// What every HTTP stand-in here does the same way: read a request's body whole, and listen on
// this machine only (a port of 0: any free one), answering its base URL.

export async function readBody (request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function listenLocally (server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
