import { Writable } from 'node:stream'
import pino, { type Logger } from 'pino'
import { loggerOptions } from '../../src/logger.js'

export interface CapturedLogger {
  logger: Logger
  /** Every line written so far, as written (JSON text). */
  lines: string[]
}

/** A real pino logger with mailrun's options (redaction included), writing into memory. */
export function captureLogger (level = 'info'): CapturedLogger {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      callback()
    }
  })
  return { logger: pino(loggerOptions(level, false), stream), lines }
}
