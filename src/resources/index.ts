import { launchesResource, messagesResource } from './activity.js'
import { launchActionsResource } from './launch-actions.js'
import { messageActionsResource, type Decider } from './message-actions.js'
import { apiKeysResource } from './api-keys.js'
import { auditResource } from './audit.js'
import { dashboardResource } from './dashboard.js'
import type { ResourceDeps } from './context.js'
import type { Launcher } from '../pipeline/launcher.js'
import { testSendsResource } from './test-sends.js'
import { mailboxesResource } from './mailboxes.js'
import { connectionsResource } from './connections.js'
import type { HttpTarget } from '../targets/http/http-target.js'
import type { DataverseClient } from '../targets/power-automate/dataverse-client.js'
import type { ControlRoomClient } from '../targets/automation-anywhere/control-room-client.js'
import type { TargetConnection } from '../targets/open-target.js'
import type { Platform } from '../targets/platforms.js'
import { notificationChannelsResource } from './notification-channels.js'
import type { AlertSender } from '../alerts/deliver-alerts.js'
import { orchestratorResource } from './orchestrator.js'
import { robotsResource } from './robots.js'
import { sendersResource } from './senders.js'
import { sessionsResource } from './sessions.js'
import { tenantsResource } from './tenants.js'
import { usersResource } from './users.js'

/** Every operation the admin API (and the console) offers, one module per resource. */
export function createResources (deps: ResourceDeps & { launcher: Launcher, decider: Decider, replayHours: number, alerts: AlertSender, httpTarget: HttpTarget, dataverse: DataverseClient, controlRoom: ControlRoomClient, platforms: Record<TargetConnection['kind'], Platform> }) {
  return {
    tenants: tenantsResource(deps),
    apiKeys: apiKeysResource(deps),
    mailboxes: mailboxesResource(deps),
    senders: sendersResource(deps),
    robots: robotsResource(deps),
    orchestrator: orchestratorResource(deps),
    connections: connectionsResource(deps),
    messages: messagesResource(deps),
    launches: launchesResource(deps),
    users: usersResource(deps),
    sessions: sessionsResource(deps),
    dashboard: dashboardResource(deps),
    testSends: testSendsResource(deps),
    audit: auditResource(deps),
    launchActions: launchActionsResource(deps),
    messageActions: messageActionsResource(deps),
    notificationChannels: notificationChannelsResource(deps)
  }
}

export type Resources = ReturnType<typeof createResources>
