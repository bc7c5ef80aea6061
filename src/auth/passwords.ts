import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'

// Console passwords, hashed with scrypt (RFC 7914) as Node ships it: no native addon to build.
// N = 2^15, r = 8, p = 1 is OWASP's recommended minimum (~32 MiB, ~60 ms here), and the parameters
// are kept with each hash so they can be raised later without invalidating old ones.

const N = 2 ** 15
const R = 8
const P = 1
const KEY_BYTES = 32
export const MIN_PASSWORD_LENGTH = 10

async function scrypt (password: string, salt: Buffer, cost: { N: number, r: number, p: number }): Promise<Buffer> {
  // Node refuses a cost at its default 32 MiB limit; twice what the cost needs is room enough.
  const options: ScryptOptions = { ...cost, maxmem: 2 * 128 * cost.N * cost.r * cost.p }
  return await new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) => { if (error !== null) reject(error); else resolve(key) })
  })
}

export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, { N, r: R, p: P })
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`
}

export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return false
  const expected = Buffer.from(key, 'base64')
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** A hash to compare against when the account does not exist, so a wrong address takes as long as a wrong password. */
let decoy: Promise<string> | null = null
export async function decoyHash (): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'))
  return await decoy
}
