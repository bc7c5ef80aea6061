import { createServer, connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface TcpProxy {
  port: number
  /** Resets every open connection and refuses new ones until restore(). */
  cut: () => void
  restore: () => void
  close: () => Promise<void>
}

/** A TCP proxy on 127.0.0.1 to `target`, that a test can cut and restore, as a network fault does. */
export async function startTcpProxy (target: { host: string, port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>()
  let down = false
  const server = createServer((client) => {
    if (down) { client.resetAndDestroy(); return }
    const upstream = connect(target.port, target.host)
    open.add(client)
    open.add(upstream)
    const drop = (): void => {
      open.delete(client)
      open.delete(upstream)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    cut () {
      down = true
      for (const socket of open) socket.resetAndDestroy()
      open.clear()
    },
    restore () { down = false },
    close: async () => {
      down = true
      for (const socket of open) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}
