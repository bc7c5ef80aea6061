import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Whether a secret someone sent equals the expected one, in time that tells nothing about where
 * they differ: both are hashed first, so even their lengths stay hidden.
 */
export function sameSecret (given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()
  return timingSafeEqual(digest(given), digest(expected))
}
