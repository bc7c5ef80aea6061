import { createSign, type KeyObject } from 'node:crypto'

// The two OAuth2 flows that prove who mailrun is with a private key instead of a secret (a
// Microsoft certificate credential, a Google service account) both send an RS256 JWT.

const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A compact RS256 JWS: header and claims as given, `alg` and `typ` set here. */
export function signJwt (header: Record<string, string>, claims: Record<string, string | number>, key: KeyObject | string): string {
  const input = `${part({ alg: 'RS256', typ: 'JWT', ...header })}.${part(claims)}`
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`
}
