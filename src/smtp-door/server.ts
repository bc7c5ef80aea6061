import { sameSecret } from '../crypto/same-secret.js'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import type { SmtpDoorConfig } from '../config.js'
import type { Database } from '../db/schema.js'
import type { Receiver } from '../pipeline/receive.js'
import type { FailureLimiter } from '../auth/failure-limiter.js'
import { serviceMailboxes } from './mailboxes.js'
import { perMinuteLimiter } from './rate-limit.js'

// The SMTP door: the company's MTA, an Exchange connector or a routing rule delivers mail for the
// service mailboxes straight to mailrun, over SMTP or LMTP. The MTA keeps a message until mailrun
// answers 250, so 250 is said only once the message is stored (the same receive() as every other
// door); anything that stops it from being stored is a 451, which the MTA retries.

export interface SmtpDoorDeps {
  config: SmtpDoorConfig
  /** The host name in the greeting and in Received lines. */
  name: string
  host: string
  maxMessageBytes: number
  db: Kysely<Database>
  receiver: Receiver
  logger: Logger
  /** Failed credentials per client address, shared with the HTTP doors and the API (MAILRUN_AUTH_FAILURE_LIMIT). */
  failures?: FailureLimiter
}

/** Wrong AUTH attempts one connection may make before it is closed (a relay with the right password needs one). */
export const AUTH_FAILURES_PER_CONNECTION = 3

export interface SmtpDoor {
  listen: () => Promise<number>
  close: () => Promise<void>
}

function smtpError (code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code })
}

// RFC 5322 date-time, as mail servers write it in Received lines.
const rfc5322Date = (date: Date): string => date.toUTCString().replace(/GMT$/, '+0000')

/** The Received line this door adds (RFC 5321 section 4.4), ending with CRLF. */
export function receivedLine (session: Pick<SMTPServerSession, 'id' | 'remoteAddress' | 'hostNameAppearsAs' | 'transmissionType'>, name: string, recipients: string[], at = new Date()): string {
  const from = `from ${session.hostNameAppearsAs || 'unknown'} ([${session.remoteAddress}])`
  const forPart = recipients.length === 1 ? `\r\n\tfor <${recipients[0] ?? ''}>` : ''
  return `Received: ${from}\r\n\tby ${name} (mailrun) with ${session.transmissionType || 'SMTP'} id ${session.id}${forPart};\r\n\t${rfc5322Date(at)}\r\n`
}

export function createSmtpDoor (deps: SmtpDoorDeps): SmtpDoor {
  const { config, logger } = deps
  const lmtp = config.protocol === 'lmtp'
  const allowMessage = perMinuteLimiter(config.rateLimitPerMinute)
  const disabled = [...(config.tls === undefined ? ['STARTTLS'] : []), ...(config.auth === undefined ? ['AUTH'] : [])]
  // Per connection (session id): wrong AUTH attempts, and when it last started a message or opened.
  const authFailures = new Map<string, number>()
  const lastUseful = new Map<string, number>()
  const openPerAddress = new Map<string, number>()

  async function deliver (session: SMTPServerSession, raw: Buffer): Promise<Array<string | Error>> {
    const recipients = session.envelope.rcptTo.map((r) => r.address)
    const mailboxes = await serviceMailboxes(deps.db, recipients)
    const trace = Buffer.from(receivedLine(session, deps.name, recipients))
    const envelopeFrom = session.envelope.mailFrom === false ? null : session.envelope.mailFrom.address
    const answers: Array<string | Error> = []
    for (const address of recipients) {
      const mailbox = mailboxes.get(address.toLowerCase())
      if (mailbox === undefined) { answers.push(smtpError(550, `<${address}> is no longer a service mailbox here`)); continue }
      try {
        const result = await deps.receiver.receive(mailbox, { door: 'smtp', raw, rawIsOriginal: true, envelopeFrom, provider: null, client: { ip: session.remoteAddress, helo: session.hostNameAppearsAs }, trace })
        answers.push(`stored for <${address}> as ${result.message} (${result.status})`)
      } catch (error) {
        logger.error({ err: error, mailbox: mailbox.id }, 'SMTP door: message not stored; the sending MTA will retry')
        answers.push(smtpError(451, `could not store the message for <${address}> now; try again later`))
      }
    }
    return answers
  }

  const server = new SMTPServer({
    name: deps.name,
    banner: 'mailrun',
    lmtp,
    size: deps.maxMessageBytes,
    rejectOversized: true,
    maxClients: config.maxClients,
    // Idle clients are dropped after a minute; a message in transit keeps the socket busy.
    socketTimeout: 60_000,
    closeTimeout: 30_000,
    disableReverseLookup: true,
    // RFC 3463 codes in every reply (4.3.0, 5.1.1…): MTAs log and act on them. smtp-server hides them by default.
    hideENHANCEDSTATUSCODES: false,
    logger: false,
    disabledCommands: disabled,
    authOptional: config.auth === undefined,
    authMethods: ['PLAIN', 'LOGIN'],
    // Without a certificate, AUTH over a plain connection is the operator's explicit choice (a
    // relay on the same host or network); with one, credentials wait for STARTTLS.
    allowInsecureAuth: config.tls === undefined,
    ...(config.tls !== undefined ? { key: readFileSync(config.tls.keyFile), cert: readFileSync(config.tls.certFile) } : {}),
    onConnect (session, callback) {
      const address = session.remoteAddress
      const wait = deps.failures?.blocked(address) ?? null
      if (wait !== null) { callback(smtpError(421, `too many failed logins from ${address}; try again in ${wait} s`)); return }
      const open = (openPerAddress.get(address) ?? 0) + 1
      // One address may not take every slot (MAILRUN_SMTP_DOOR_MAX_CLIENTS_PER_ADDRESS).
      if (open > config.maxClientsPerAddress) { callback(smtpError(421, `too many connections from ${address}; try again in a moment`)); return }
      openPerAddress.set(address, open)
      lastUseful.set(session.id, Date.now())
      callback()
    },
    onClose (session) {
      authFailures.delete(session.id)
      // Only connections onConnect admitted were counted.
      if (lastUseful.delete(session.id)) {
        const left = (openPerAddress.get(session.remoteAddress) ?? 1) - 1
        if (left <= 0) openPerAddress.delete(session.remoteAddress)
        else openPerAddress.set(session.remoteAddress, left)
      }
    },
    onAuth (auth, session, callback) {
      const expected = config.auth
      const address = session.remoteAddress
      const wait = deps.failures?.blocked(address) ?? null
      if (wait !== null) { callback(smtpError(421, `too many failed logins from ${address}; try again in ${wait} s`)); return }
      if (expected !== undefined && typeof auth.username === 'string' && typeof auth.password === 'string' && sameSecret(auth.username, expected.user) && sameSecret(auth.password, expected.password)) {
        callback(null, { user: auth.username })
        return
      }
      // Counted per address with every other failed credential, and per connection: a guesser
      // gets a few tries, then the connection closes (421) and the address waits out the minute.
      deps.failures?.fail(address)
      const failures = (authFailures.get(session.id) ?? 0) + 1
      authFailures.set(session.id, failures)
      if (failures >= AUTH_FAILURES_PER_CONNECTION || deps.failures?.blocked(address) != null) {
        callback(smtpError(421, 'authentication failed too many times; closing the connection'))
        return
      }
      callback(smtpError(535, 'authentication failed'))
    },
    onMailFrom (_address, session, callback) {
      lastUseful.set(session.id, Date.now())
      if (!allowMessage(session.remoteAddress)) {
        callback(smtpError(450, `too many messages from ${session.remoteAddress} this minute; try again later`))
        return
      }
      callback()
    },
    onRcptTo (address, _session, callback) {
      serviceMailboxes(deps.db, [address.address]).then((found) => {
        if (found.size === 0) callback(smtpError(550, `<${address.address}>: no such service mailbox here`))
        else callback()
      }, (error: unknown) => {
        logger.error({ err: error }, 'SMTP door: cannot look the recipient up')
        callback(smtpError(451, 'cannot check the recipient now; try again later'))
      })
    },
    onData (stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = []
      // Past the size limit nothing more is kept (smtp-server answers 552 itself): memory stays
      // bounded by MAILRUN_MAX_MESSAGE_BYTES whatever the client sends.
      stream.on('data', (chunk: Buffer) => {
        // A message on its way is use, however long a large one takes.
        lastUseful.set(session.id, Date.now())
        if (!stream.sizeExceeded) chunks.push(chunk)
      })
      stream.on('end', () => {
        if (stream.sizeExceeded) { callback(null); return }
        deliver(session, Buffer.concat(chunks)).then((answers) => {
          if (lmtp) { callback(null, answers as unknown as string); return }
          // SMTP has one answer for all recipients: if one could not be stored, the MTA retries
          // them all, and the ones already stored are recognised as duplicates.
          const failed = answers.find((a): a is Error => a instanceof Error)
          if (failed !== undefined) callback(failed)
          else callback(null, answers.join('; '))
        }, (error: unknown) => {
          logger.error({ err: error }, 'SMTP door: message not stored; the sending MTA will retry')
          callback(smtpError(451, 'could not store the message now; try again later'))
        })
      })
    }
  })
  server.on('error', (error) => { logger.warn({ err: error }, 'SMTP door connection error') })

  // A connection that starts no message is closed after MAILRUN_SMTP_DOOR_IDLE_S whatever else it
  // sends: NOOP every few seconds keeps smtp-server's socket timeout from ever firing.
  const idleCheck = setInterval(() => {
    const before = Date.now() - config.idleMs
    for (const connection of (server as unknown as { connections: Set<{ id: string, send: (code: number, text: string) => void }> }).connections) {
      const last = lastUseful.get(connection.id)
      if (last !== undefined && last < before) connection.send(421, `${deps.name} idle for too long without a message; closing`)
    }
  }, Math.min(5_000, config.idleMs))
  idleCheck.unref()

  return {
    async listen () {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject)
        server.listen(config.port, deps.host, () => { server.server.off('error', reject); resolve() })
      })
      return (server.server.address() as AddressInfo).port
    },
    async close () {
      clearInterval(idleCheck)
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
