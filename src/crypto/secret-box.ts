import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

// Secrets at rest (Orchestrator credentials, mailbox passwords, signing keys) are sealed with
// AES-256-GCM. The format carries a version so the key or algorithm can change later.
const VERSION = 'v1'

export interface SecretBox {
  seal: (plain: string) => string
  open: (sealed: string) => string
}

export function createSecretBox (key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes')
  return {
    seal (plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':')
    },
    open (sealed) {
      const [version, iv, tag, body] = sealed.split(':')
      if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed secret')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8')
    }
  }
}
