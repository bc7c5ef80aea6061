import { createHash } from 'node:crypto'
import { setImmediate as turn } from 'node:timers/promises'

const SLICE_BYTES = 1024 * 1024

/**
 * The SHA-256 of a buffer, in hex, hashed a mebibyte at a time with a turn of the event loop in
 * between: hashing a 36 MB message in one call held the loop for ~150 ms, long enough, with a few
 * at once, to make /healthz miss its answer time.
 */
export async function sha256Hex (data: Uint8Array): Promise<string> {
  const hash = createHash('sha256')
  for (let at = 0; at < data.length; at += SLICE_BYTES) {
    if (at > 0) await turn()
    hash.update(data.subarray(at, at + SLICE_BYTES))
  }
  return hash.digest('hex')
}
