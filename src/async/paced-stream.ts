import { Readable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'

/** The piece size mailauth feeds its own hashing with. */
export const PIECE_BYTES = 64 * 1024

/**
 * The bytes as a stream of pieces, the event loop let round between them, so a 5 MB message
 * being hashed or parsed lets other messages' I/O in every piece, not once at its end. A stream
 * consumer that waits for 'drain' (mailauth's DKIM verifier fed a Buffer does) otherwise takes
 * every piece within one turn: 60–75 ms for 5 MB, measured. A message of one piece costs no turn.
 */
export function pacedStream (bytes: Buffer, pieceBytes: number = PIECE_BYTES): Readable {
  async function * pieces (): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += pieceBytes) {
      if (at > 0) await nextTurn()
      yield bytes.subarray(at, at + pieceBytes)
    }
  }
  return Readable.from(pieces(), { objectMode: false })
}
