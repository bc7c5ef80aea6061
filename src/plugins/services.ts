import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { Config } from '../config.js'
import { cachedResolverOn } from '../net/dns-cache.js'
import type { DNSResolver } from 'mailauth'
import type { SecretBox } from '../crypto/secret-box.js'
import { createMetrics, type Metrics } from '../metrics.js'
import { createJobTracker, FIRST_LOOK_MS, type JobTracker, type OutcomeDeps } from '../launch/job-tracker.js'
import { createMailer, type Mailer } from '../notify/mailer.js'
import { singleFlight } from '../async/single-flight.js'
import { createAlertSender, type AlertSender } from '../alerts/deliver-alerts.js'
import { createTargetRunPoller } from '../launch/target-runs.js'
import { KEPT_ROWS_MS, keptRows } from '../db/kept-rows.js'
import { createIngressMailboxes, type IngressMailboxes } from '../ingress/ingress-mailboxes.js'
import { createPollPace, POLL_QUIET_EVERY_MS, type PollPace } from '../launch/poll-pace.js'
import { createDataverseClient } from '../targets/power-automate/dataverse-client.js'
import { createControlRoomClient } from '../targets/automation-anywhere/control-room-client.js'
import { createPlatforms } from '../targets/platforms.js'
import { createHttpTarget, type HttpTarget } from '../targets/http/http-target.js'
import { createIncidentWatch } from '../alerts/incidents.js'
import { createDigestWatch } from '../alerts/digest-watch.js'
import { createCanaryWatch, missedCanaries, type CanaryWatch } from '../canary/canary-watch.js'
import { createMailTokens, type MailTokens } from '../mail-auth/mail-tokens.js'
import { createSweeper, type Sweeper } from '../imap/sweeper.js'
import { createGraphWatcher, type GraphWatcher } from '../graph/graph-watcher.js'
import { createLaunchService, type LaunchService } from '../launch/launch-service.js'
import { createReceiver, type Receiver, type SenderAndRobot } from '../pipeline/receive.js'
import { defaultTableLimits } from '../pipeline/spreadsheet-rows.js'
import { outboundDispatcher } from '../net/outbound-dispatcher.js'
import { createOrchestratorRegistry, type OrchestratorRegistry } from '../orchestrator/registry.js'
import type { DatabaseHandle } from '../db/database.js'
import type { Database } from '../db/schema.js'
import { countStuck } from '../pipeline/undecided.js'
import { createRawSpool, type RawSpool } from '../pipeline/raw-spool.js'
import path from 'node:path'
import { createFailureLimiter, type FailureLimiter } from '../auth/failure-limiter.js'
import { sharedFailures } from '../auth/shared-failures.js'
import { createResources, type Resources } from '../resources/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Kysely<Database>
    database: DatabaseHandle
    metrics: Registry
    secrets: SecretBox
    orchestrator: OrchestratorRegistry
    appMetrics: Metrics
    receiver: Receiver
    launches: LaunchService
    jobs: JobTracker
    pollPace: PollPace
    ingressMailboxes: IngressMailboxes
    targetRuns: { pollDue: (limit?: number) => Promise<number> }
    mailer: Mailer
    alerts: AlertSender
    httpTarget: HttpTarget
    incidents: { watch: () => Promise<{ opened: number, closed: number }> }
    digests: { send: (now?: Date) => Promise<number> }
    canaries: CanaryWatch
    mailTokens: MailTokens
    outcomeDeps: OutcomeDeps
    sweeper: Sweeper
    graph: GraphWatcher
    failures: FailureLimiter
    spool: RawSpool | undefined
    resources: Resources
  }
}

export interface ServiceDeps {
  config: Config
  database: DatabaseHandle
  secrets: SecretBox
  /** DNS for SPF/DKIM/DMARC; default: MAILRUN_DNS_SERVERS or the system resolver. */
  dnsResolver?: DNSResolver
}

// A registry per app rather than prom-client's global one, so several apps (tests, replicas
// in one process) never register the same metric twice.
export default fp(async function services (app: FastifyInstance, deps: ServiceDeps) {
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics, prefix: 'mailrun_' })
  const database = deps.database
  // eslint-disable-next-line no-new
  new Counter({ name: 'mailrun_database_statements_total', help: 'Statements sent to the database', registers: [metrics], collect () { this.reset(); this.inc(database.statements()) } })
  app.decorate('config', deps.config)
  app.decorate('database', deps.database)
  app.decorate('db', deps.database.db)
  app.decorate('metrics', metrics)
  app.decorate('secrets', deps.secrets)
  app.decorate('failures', createFailureLimiter({
    max: deps.config.authFailureLimitPerMinute,
    store: sharedFailures(deps.database.db),
    onStoreError: (error) => { app.log.warn({ err: error }, 'a failed credential could not be counted in the database; counted in this process only') }
  }))
  const dispatcher = outboundDispatcher(deps.config.outboundDeny)
  app.decorate('orchestrator', createOrchestratorRegistry({ dispatcher, deny: deps.config.outboundDeny, timeoutMs: deps.config.orchestratorTimeoutMs }))
  app.addHook('onClose', async () => { await dispatcher.close() })
  const appMetrics = createMetrics(metrics)
  app.decorate('appMetrics', appMetrics)
  const resolver = deps.dnsResolver ?? cachedResolverOn(deps.config.dnsServers)
  const logger = app.log as unknown as Logger
  const orchestrator = app.orchestrator
  const mailTokens = createMailTokens({ db: deps.database.db, secrets: deps.secrets, http: { dispatcher, deny: deps.config.outboundDeny }, logger })
  app.decorate('mailTokens', mailTokens)
  const mailer = createMailer({ db: deps.database.db, logger, tokens: mailTokens, deny: deps.config.outboundDeny, defaultSmtpUrl: deps.config.smtpUrl })
  app.decorate('mailer', mailer)
  app.addHook('onClose', async () => { mailer.close() })
  const alerts = createAlertSender({ db: deps.database.db, secrets: deps.secrets, deny: deps.config.outboundDeny, logger, publicUrl: deps.config.publicUrl, chatworkApiUrl: deps.config.chatworkApiUrl })
  app.decorate('alerts', alerts)
  app.addHook('onClose', async () => { await alerts.close() })
  const httpTarget = createHttpTarget({ deny: deps.config.outboundDeny, timeoutMs: deps.config.startTimeoutMs })
  app.decorate('httpTarget', httpTarget)
  app.addHook('onClose', async () => { await httpTarget.close() })
  const dataverse = createDataverseClient({ deny: deps.config.outboundDeny, timeoutMs: deps.config.startTimeoutMs })
  app.addHook('onClose', async () => { await dataverse.close() })
  const controlRoom = createControlRoomClient({ deny: deps.config.outboundDeny, timeoutMs: deps.config.startTimeoutMs })
  app.addHook('onClose', async () => { await controlRoom.close() })
  const platforms = createPlatforms({ httpTarget, dataverse, controlRoom })
  // A queued reply is sent right away, and so is a team's alert; the background passes retry what fails.
  const onReplyQueued = singleFlight(async () => await mailer.sendDue(), (error) => { logger.warn({ err: error }, 'sending replies failed; will retry') })
  const onAlertQueued = singleFlight(async () => await alerts.deliverDue(), (error) => { logger.warn({ err: error }, 'sending alerts failed; will retry') })
  app.decorate('incidents', createIncidentWatch({ db: deps.database.db, logger, afterMs: deps.config.alertAfterMs }))
  app.decorate('digests', createDigestWatch({ db: deps.database.db, logger }))
  const replies = { perHour: deps.config.replyLimitPerHour, giveUpMs: deps.config.replyGiveUpMs }
  const spool = deps.database.kind === 'pglite' && deps.database.dataDir !== undefined ? createRawSpool(path.join(deps.database.dataDir, 'spool')) : undefined
  // Job and run polling at full pace only while a launch made here is young (one interval).
  const pollPace = createPollPace({ youngForMs: deps.config.jobPollIntervalMs, quietEveryMs: POLL_QUIET_EVERY_MS })
  app.decorate('pollPace', pollPace)
  const launches = createLaunchService({
    ...(spool !== undefined ? { spool } : {}),
    db: deps.database.db,
    secrets: deps.secrets,
    orchestrator,
    platforms,
    logger,
    deadlineMs: deps.config.launchDeadlineMs,
    maxAttempts: deps.config.launchMaxAttempts,
    startTimeoutMs: deps.config.startTimeoutMs,
    quietMs: deps.config.launchQuietMs,
    claimMs: deps.config.launchClaimMs,
    firstPollMs: Math.min(FIRST_LOOK_MS, deps.config.jobPollIntervalMs),
    metrics: appMetrics,
    replies,
    onReplyQueued,
    onAlertQueued,
    onLaunched: () => { pollPace.launched() }
  })
  app.decorate('launches', launches)
  // The receiver is made below; a replay only reaches it at request time.
  const decider = { processStored: async (messageId: string) => await receiver.processStored(messageId) }
  app.decorate('resources', createResources({ db: deps.database.db, secrets: deps.secrets, config: deps.config, orchestrator, mailTokens, launcher: launches, decider, replayHours: deps.config.replayHours, alerts, httpTarget, dataverse, controlRoom, platforms, changes: deps.database.changes }))
  app.decorate('canaries', createCanaryWatch({ db: deps.database.db, logger, onQueued: onReplyQueued }))
  app.decorate('outcomeDeps', { db: deps.database.db, replies, metrics: appMetrics, onReplyQueued, onAlertQueued })
  app.decorate('jobs', createJobTracker({ db: deps.database.db, secrets: deps.secrets, orchestrator, logger, pollIntervalMs: deps.config.jobPollIntervalMs, listReadsPerMinute: deps.config.listReadsPerMinute, metrics: appMetrics, replies, onReplyQueued, onAlertQueued }))
  app.decorate('targetRuns', createTargetRunPoller({ db: deps.database.db, secrets: deps.secrets, platforms, logger, pollIntervalMs: deps.config.jobPollIntervalMs, replies, metrics: appMetrics, onReplyQueued, onAlertQueued }))
  app.decorate('spool', spool)
  const ingressMailboxes = await createIngressMailboxes(deps.database.db, deps.database.changes)
  app.decorate('ingressMailboxes', ingressMailboxes)
  app.addHook('onClose', async () => { await ingressMailboxes.close() })
  // The tenant, sender and robot each message names, kept for a few seconds: every change made
  // through mailrun is announced and drops them at once (resources/context.ts).
  const kept = await keptRows<SenderAndRobot>(deps.database.changes, 'tenant', { ownerOf: (row) => row.tenant_id, ttlMs: KEPT_ROWS_MS, maxKept: 5_000 })
  app.addHook('onClose', async () => { await kept.close() })
  const receiver = createReceiver({
    kept,
    ...(spool !== undefined ? { spool } : {}),
    db: deps.database.db,
    logger,
    metrics: appMetrics,
    launcher: launches,
    replies,
    onReplyQueued,
    spreadsheets: { ...defaultTableLimits, maxRows: deps.config.maxQueueRows },
    ...(resolver !== undefined ? { resolver } : {})
  })
  app.decorate('receiver', receiver)
  const sweeper = createSweeper({
    db: deps.database.db, receiver, tokens: mailTokens, logger, deny: deps.config.outboundDeny, intervalMs: deps.config.sweepIntervalMs, quietCheckMs: deps.config.quietFolderCheckMs, lookbackMs: deps.config.imapLookbackMs, changes: deps.database.changes
  })
  app.decorate('sweeper', sweeper)
  app.decorate('graph', createGraphWatcher({
    db: deps.database.db,
    secrets: deps.secrets,
    tokens: mailTokens,
    receiver,
    logger,
    http: { dispatcher, deny: deps.config.outboundDeny },
    publicUrl: deps.config.publicUrl,
    intervalMs: deps.config.sweepIntervalMs,
    lookbackMs: deps.config.imapLookbackMs,
    maxMessageBytes: deps.config.maxMessageBytes
  }))
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'mailrun_canary_missed_mailboxes',
    help: 'Mailboxes whose latest canary (a test email to themselves) was not found by its deadline',
    registers: [metrics],
    async collect () { this.set((await missedCanaries(deps.database.db)).length) }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'mailrun_messages_stuck',
    help: 'Messages stored more than 5 minutes ago and still not decided (recovery fails them after 5 attempts; a non-zero value means recovery itself is not running)',
    registers: [metrics],
    async collect () { this.set(await countStuck(deps.database.db)) }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'mailrun_imap_stalled_mailboxes',
    help: 'Mailboxes this instance watches whose last successful IMAP sweep is older than twice the interval',
    registers: [metrics],
    async collect () { this.set((await sweeper.stalled()).length) }
  })
}, { name: 'services' })
