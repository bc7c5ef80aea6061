import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface Received { from: string, to: string[], raw: Buffer, mail: ParsedMail }

export interface SmtpCatcher {
  port: number
  received: Received[]
  /** Stop listening (connections are refused) / listen again on the same port. */
  stop: () => Promise<void>
  start: () => Promise<void>
  close: () => Promise<void>
}

/** A real SMTP server on 127.0.0.1 that keeps what it is sent. */
export async function startSmtpCatcher (options: { port?: number } = {}): Promise<SmtpCatcher> {
  const received: Received[] = []
  let port = options.port ?? 0
  let server: SMTPServer | null = null
  const listen = async (): Promise<void> => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData (stream, session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          const raw = Buffer.concat(chunks)
          simpleParser(raw).then((mail) => {
            received.push({ from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address), raw, mail })
            callback()
          }, callback)
        })
      }
    })
    const s = server
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => { resolve() })
    })
    port = (s.server.address() as AddressInfo).port
  }
  const stop = async (): Promise<void> => {
    const s = server
    server = null
    if (s !== null) await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  }
  await listen()
  return { get port () { return port }, received, stop, start: listen, close: stop }
}
