import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Config } from '../config.js'

export interface LoadedSecretKey {
  key: Buffer
  /** Set when this start generated the key file. */
  generatedAt?: string
}

/**
 * MAILRUN_SECRET_KEY when set. On the embedded database without it, a key file in the data
 * directory (created once, mode 0600). With PostgreSQL the variable is required: replicas
 * must all decrypt the same rows, and a key file on one machine would strand the others.
 */
export async function loadSecretKey (config: Pick<Config, 'secretKey' | 'databaseUrl' | 'dataDir'>): Promise<LoadedSecretKey> {
  if (config.secretKey !== undefined) return { key: config.secretKey }
  if (config.databaseUrl !== undefined) {
    throw new Error('MAILRUN_SECRET_KEY is required with DATABASE_URL (every replica must share it); generate one with: openssl rand -base64 32')
  }
  const file = path.resolve(config.dataDir, 'secret.key')
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')
    if (key.length !== 32) throw new Error(`${file} does not hold 32 bytes in base64; restore it from backup or set MAILRUN_SECRET_KEY`)
    return { key }
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error
  }
  await mkdir(config.dataDir, { recursive: true })
  const key = randomBytes(32)
  // 'wx': if two processes race, the second fails instead of overwriting the first one's key.
  await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  return { key, generatedAt: file }
}
