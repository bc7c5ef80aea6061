import type { Door } from '../db/schema.js'
import type { ProviderVerdict } from './authenticate-sender.js'

/** One delivery, whatever door it came through: what every ingress adapter hands to receive(). */
export interface InboundMail {
  door: Door
  /** The message bytes: the original, or rebuilt from the provider's parsed fields. */
  raw: Buffer
  /** False when `raw` was rebuilt from parsed fields (its DKIM signatures cannot verify). */
  rawIsOriginal: boolean
  /** The SMTP envelope sender when the provider says it ('' for a bounce). */
  envelopeFrom: string | null
  provider: ProviderVerdict | null
  imap?: { folder: string, internalDate: Date }
  /** The SMTP door's client: the connecting address and its HELO name, so SPF can be checked. */
  client?: SmtpClient
  /**
   * Trace header fields the door adds in front of the message (a Received line). They are stored
   * with it but are not part of its identity: a retransmission gets a new Received line and must
   * still be the same message.
   */
  trace?: Buffer
}

export interface SmtpClient { ip: string, helo: string }

/** The mailbox a delivery is for, as the pipeline needs it. */
export interface TargetMailbox {
  id: string
  tenantId: string
  address: string
  active: boolean
  senderAuth: 'dmarc' | 'provider' | 'off'
  trustedAuthservId: string | null
}
