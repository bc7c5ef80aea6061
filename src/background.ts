import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { sweepChunks } from './pipeline/raw-chunks.js'
import { recoverReceived } from './pipeline/recover-received.js'
import { sweepRetention } from './retention/retention-sweep.js'

const RECOVERY_INTERVAL_MS = 10_000
const STRANDED_INTERVAL_MS = 1_000
const LAUNCH_QUEUE_INTERVAL_MS = 1_000
// Young jobs are looked at 1, 2, 4 … s after their launch: the tick is what such a look can be late by.
const JOB_POLL_TICK_MS = 250
/** Older jobs are looked at every 2 s, as before young jobs had their own reads. */
const OLDER_JOBS_EVERY_MS = 2_000
const REPLY_TICK_MS = 5_000
const ALERT_TICK_MS = 1_000
const INCIDENT_WATCH_MS = 15_000
const DIGEST_TICK_MS = 60_000
const CANARY_TICK_MS = 10_000

/**
 * Work beside the HTTP server, each loop one pass at a time: finishing messages stored before a
 * stop, the durable launch queue (retries, launches abandoned by a dead process), job polling,
 * the reply outbox, the team's alerts, the retention sweep, and the IMAP sweep.
 */
export function startBackgroundWork (app: FastifyInstance): () => Promise<void> {
  const logger = app.log as unknown as Logger
  const loops: Array<{ timer: NodeJS.Timeout, running: Promise<unknown> }> = []
  const every = (ms: number, name: string, pass: () => Promise<unknown>): void => {
    const loop = {
      timer: setInterval(() => {
        if (busy.has(name)) return
        busy.add(name)
        loop.running = pass().catch((error: unknown) => { logger.error({ err: error }, `${name} pass failed`) }).finally(() => busy.delete(name))
      }, ms),
      running: Promise.resolve() as Promise<unknown>
    }
    loop.timer.unref()
    loops.push(loop)
  }
  const busy = new Set<string>()
  recoverReceived(app.db, app.receiver, logger).catch((error: unknown) => { logger.error({ err: error }, 'recovery pass failed') })
  app.spool?.sweep(app.db).catch((error: unknown) => { logger.warn({ err: error }, 'sweeping the spool failed') })
  sweepChunks(app.db).catch((error: unknown) => { logger.warn({ err: error }, 'sweeping raw chunks failed') })
  every(RECOVERY_INTERVAL_MS, 'recovery', async () => await recoverReceived(app.db, app.receiver, logger))
  // Messages a door stored but could not decide here (the database went away between the two) are
  // tried every second until they are, not after the other doors' grace. The same name: one
  // recovery pass at a time, whichever loop starts it.
  every(STRANDED_INTERVAL_MS, 'recovery', async () => { if (app.receiver.stranded().length > 0) await recoverReceived(app.db, app.receiver, logger) })
  every(LAUNCH_QUEUE_INTERVAL_MS, 'launch queue', async () => await app.launches.runDue())
  // Each tick only while a launch made here is young; otherwise every 2 s (app.pollPace).
  let jobsRunAt = 0
  let olderJobsAt = 0
  every(JOB_POLL_TICK_MS, 'job polling', async () => {
    const now = Date.now()
    if (!app.pollPace.due(jobsRunAt)) return
    jobsRunAt = now
    const older = now - olderJobsAt >= OLDER_JOBS_EVERY_MS
    if (older) olderJobsAt = now
    await app.jobs.pollDue({ older })
  })
  let runsRunAt = 0
  every(JOB_POLL_TICK_MS, 'target run polling', async () => {
    if (!app.pollPace.due(runsRunAt)) return
    runsRunAt = Date.now()
    await app.targetRuns.pollDue()
  })
  every(REPLY_TICK_MS, 'replies', async () => await app.mailer.sendDue())
  every(ALERT_TICK_MS, 'alerts', async () => await app.alerts.deliverDue())
  every(INCIDENT_WATCH_MS, 'incidents', async () => await app.incidents.watch())
  every(DIGEST_TICK_MS, 'digests', async () => await app.digests.send())
  every(CANARY_TICK_MS, 'canaries', async () => await app.canaries.pass())
  every(app.config.retentionSweepMs, 'retention', async () => {
    const removed = await sweepRetention(app.db, { defaultDays: app.config.retentionDays, replayHours: app.config.replayHours })
    if (removed.messages > 0 || removed.replayCopies > 0) logger.info({ removed }, 'retention: content past its retention period (or replay window) removed')
  })
  const stopSweeper = app.sweeper.start()
  const stopGraph = app.graph.start()
  return async () => {
    for (const loop of loops) clearInterval(loop.timer)
    await stopSweeper()
    await stopGraph()
    await Promise.all(loops.map(async (l) => await l.running))
  }
}
