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

/** A login attempt: a password (PLAIN, LOGIN) or an access token (XOAUTH2). */
export interface SmtpLogin { method: string, username: string, password?: string | undefined, accessToken?: string | undefined }

/**
 * A real SMTP server on 127.0.0.1 that keeps what it is sent. With `authenticate`, it requires a
 * login (PLAIN, LOGIN or XOAUTH2, over plain TCP: it is a local test server) and answers 535 to
 * one `authenticate` refuses.
 */
export async function startSmtpCatcher (options: { port?: number, authenticate?: (login: SmtpLogin) => boolean } = {}): Promise<SmtpCatcher> {
  const received: Received[] = []
  let port = options.port ?? 0
  let server: SMTPServer | null = null
  const listen = async (): Promise<void> => {
    const authenticate = options.authenticate
    server = new SMTPServer({
      ...(authenticate === undefined
        ? { authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'] }
        : {
            disabledCommands: ['STARTTLS'],
            allowInsecureAuth: true,
            authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
            onAuth (auth, _session, callback) {
              const ok = authenticate({ method: auth.method, username: auth.username ?? '', password: auth.password ?? undefined, accessToken: auth.accessToken ?? undefined })
              if (ok) { callback(null, { user: auth.username }); return }
              // XOAUTH2 failures carry the provider's JSON status (RFC 7628 style) before the 535.
              callback(Object.assign(new Error('5.7.8 Username and Password not accepted'), { responseCode: 535 }), auth.method === 'XOAUTH2' ? { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } } : undefined)
            }
          }),
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
