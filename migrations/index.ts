import type { Migration } from 'kysely'
import * as initialDataModel from './20261123T1600-initial-data-model.js'
import * as inboundDetails from './20261123T1700-inbound-details.js'
import * as replyThreading from './20261123T1800-reply-threading.js'
import * as imapLeases from './20261123T1900-imap-leases.js'
import * as replyLimitIndex from './20261123T2000-reply-limit-index.js'
import * as faultGuarantees from './20261130T1300-fault-guarantees.js'
import * as rawSpool from './20261130T1400-raw-spool.js'
import * as rawChunks from './20261130T1700-raw-chunks.js'
import * as consoleUsers from './20261130T1800-console-users.js'
import * as consoleTestSends from './20261130T1900-console-test-sends.js'
import * as instanceAdminSessions from './20261130T2000-instance-admin-sessions.js'
import * as activityRollup from './20261130T2100-activity-rollup.js'
import * as ingressTokenSealed from './20261130T2200-ingress-token-sealed.js'
import * as smtpDoor from './20261130T2300-smtp-door.js'
import * as graphPush from './20261201T0000-graph-push.js'
import * as robotOperators from './20261201T0100-robot-operators.js'
import * as queueRows from './20261201T0200-queue-rows.js'
import * as robotAttachments from './20261201T0300-robot-attachments.js'
import * as orchestratorListBudget from './20261201T1000-orchestrator-list-budget.js'
import * as extraColumns from './20261206T1900-extra-columns.js'
import * as escapeFormulas from './20261206T2000-escape-formulas.js'
import * as authFailures from './20261206T2100-auth-failures.js'
import * as claimToken from './20261206T2200-claim-token.js'
import * as tenantDomains from './20261207T0000-tenant-domains.js'
import * as retention from './20261207T0100-retention.js'
import * as auditTrail from './20261207T0200-audit-trail.js'
import * as notificationChannels from './20261207T0300-notification-channels.js'
import * as incidents from './20261207T0400-incidents.js'
import * as digests from './20261207T0500-digests.js'
import * as canaries from './20261207T0600-canaries.js'
import * as channelFailingTold from './20261207T0700-channel-failing-told.js'
import * as connections from './20261207T0800-connections.js'
import * as automationAnywhere from './20261207T1000-automation-anywhere.js'
import * as trackedJobIndexes from './20261207T1400-tracked-job-indexes.js'
import * as platformRunIndex from './20261208T0000-platform-run-index.js'

// A static list rather than a directory scan: the same code runs from src (tsx) and from
// dist (compiled), and Kysely runs migrations in the order of their names.
export const migrations: Record<string, Migration> = {
  '20261123T1600-initial-data-model': initialDataModel,
  '20261123T1700-inbound-details': inboundDetails,
  '20261123T1800-reply-threading': replyThreading,
  '20261123T1900-imap-leases': imapLeases,
  '20261123T2000-reply-limit-index': replyLimitIndex,
  '20261130T1300-fault-guarantees': faultGuarantees,
  '20261130T1400-raw-spool': rawSpool,
  '20261130T1700-raw-chunks': rawChunks,
  '20261130T1800-console-users': consoleUsers,
  '20261130T1900-console-test-sends': consoleTestSends,
  '20261130T2000-instance-admin-sessions': instanceAdminSessions,
  '20261130T2100-activity-rollup': activityRollup,
  '20261130T2200-ingress-token-sealed': ingressTokenSealed,
  '20261130T2300-smtp-door': smtpDoor,
  '20261201T0000-graph-push': graphPush,
  '20261201T0100-robot-operators': robotOperators,
  '20261201T0200-queue-rows': queueRows,
  '20261201T0300-robot-attachments': robotAttachments,
  '20261201T1000-orchestrator-list-budget': orchestratorListBudget,
  '20261206T1900-extra-columns': extraColumns,
  '20261206T2000-escape-formulas': escapeFormulas,
  '20261206T2100-auth-failures': authFailures,
  '20261206T2200-claim-token': claimToken,
  '20261207T0000-tenant-domains': tenantDomains,
  '20261207T0100-retention': retention,
  '20261207T0200-audit-trail': auditTrail,
  '20261207T0300-notification-channels': notificationChannels,
  '20261207T0400-incidents': incidents,
  '20261207T0500-digests': digests,
  '20261207T0600-canaries': canaries,
  '20261207T0700-channel-failing-told': channelFailingTold,
  '20261207T0800-connections': connections,
  '20261207T1000-automation-anywhere': automationAnywhere,
  '20261207T1400-tracked-job-indexes': trackedJobIndexes,
  '20261208T0000-platform-run-index': platformRunIndex
}
