import { Type } from '@sinclair/typebox'
import { Timestamp, Uuid } from './common.js'

// The people allowed to launch robots by email.

const senderFields = {
  fullName: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.String({ format: 'idn-email', maxLength: 254, description: 'Unique per tenant, compared case-insensitively.' }),
  active: Type.Boolean({ description: 'An inactive sender cannot launch anything.' })
}

export const SenderCreate = Type.Object({
  fullName: senderFields.fullName,
  email: senderFields.email,
  active: Type.Optional({ ...senderFields.active, default: true })
}, { additionalProperties: false, examples: [{ fullName: 'Anna Petrova', email: 'anna.petrova@acme.example' }] })

export const SenderPatch = Type.Partial(Type.Object(senderFields), { additionalProperties: false, minProperties: 1, examples: [{ active: false }] })

export const Sender = Type.Object({ id: Uuid, ...senderFields, createdAt: Timestamp, updatedAt: Timestamp }, {
  examples: [{ id: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d', fullName: 'Anna Petrova', email: 'anna.petrova@acme.example', active: true, createdAt: '2026-11-23T10:00:00.000Z', updatedAt: '2026-11-23T10:00:00.000Z' }]
})

export const Erasure = Type.Object({
  senderId: Type.String({ format: 'uuid', description: 'The sender erased (it no longer exists).' }),
  messages: Type.Integer({ description: 'Messages from, by or answered to the address whose content and address were removed (their rows stay, anonymous, for counts).' }),
  launches: Type.Integer({ description: 'Launches of those messages whose inputs, outputs and history details were removed.' }),
  replies: Type.Integer({ description: 'Replies whose recipient, subject and text were removed (one still waiting is not sent).' })
}, { examples: [{ senderId: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d', messages: 14, launches: 11, replies: 27 }] })
