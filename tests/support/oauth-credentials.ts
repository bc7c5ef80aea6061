import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { IdentityStandIn } from './identity-stand-in.js'
import { GMAIL_SCOPE } from './identity-stand-in.js'

// Credentials as tenants get them from their providers: a certificate and key made with openssl
// (what an Entra app registration is given), a Google service account key file.

export function selfSignedCertificate (cn = 'mailrun'): { certificate: string, privateKey: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailrun-cert-'))
  try {
    const keyFile = path.join(dir, 'key.pem')
    const certFile = path.join(dir, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' })
    return { certificate: readFileSync(certFile, 'utf8'), privateKey: readFileSync(keyFile, 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A service account key file (as the Cloud console downloads it) registered at the stand-in. */
export function googleServiceAccount (idp: IdentityStandIn, options: { delegated?: boolean, email?: string } = {}): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyId = randomBytes(20).toString('hex')
  const clientEmail = options.email ?? 'mailrun@acme-robots.iam.gserviceaccount.com'
  idp.google.accounts.push({ clientEmail, keyId, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string, delegatedScopes: options.delegated === false ? [] : [GMAIL_SCOPE] })
  return JSON.stringify({
    type: 'service_account',
    project_id: 'acme-robots',
    private_key_id: keyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    client_email: clientEmail,
    client_id: '104857600000000000000',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `${idp.url}/token`,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
    universe_domain: 'googleapis.com'
  }, null, 2)
}
