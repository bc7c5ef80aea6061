import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { recoverReceived } from './pipeline/recover-received.js'

const RECOVERY_INTERVAL_MS = 60_000

/** Work that runs beside the HTTP server: finishing messages stored before a stop. */
export function startBackgroundWork (app: FastifyInstance): () => Promise<void> {
  const logger = app.log as unknown as Logger
  let running: Promise<unknown> = Promise.resolve()
  const recover = (): void => {
    running = recoverReceived(app.db, app.receiver, logger).catch((error: unknown) => { logger.error({ err: error }, 'recovery pass failed') })
  }
  recover()
  const timer = setInterval(recover, RECOVERY_INTERVAL_MS)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}
