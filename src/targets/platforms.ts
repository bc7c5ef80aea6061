import type { LaunchPlan } from '../commands/validate-plan.js'
import { isBot, isDesktopFlow, isWorkQueue, type RobotTarget } from '../db/schema.js'
import { AUTOMATION_PREFIX, type ControlRoomClient } from './automation-anywhere/control-room-client.js'
import type { HttpTarget, RunReport } from './http/http-target.js'
import type { TargetConnection } from './open-target.js'
import { LAUNCH_INPUT, type DataverseClient } from './power-automate/dataverse-client.js'
import { TargetError } from './target-error.js'

// What the launch service, the run poller and a cancel need from a platform other than UiPath,
// whatever it is: start a run for a launch, find the run a lost answer started, read how a run
// stands, stop it. One entry per platform; the callers know this interface, not the platforms.

/** A launch as a platform is given it. */
export interface RunRequest {
  launchId: string
  robot: string
  sender: string | null
  plan: LaunchPlan
  /** The plan as named inputs: the arguments, and the functions as JSON text under the robot's functions argument. */
  inputs: Record<string, unknown>
  /** The email's files, where the robot takes them (an HTTP target: in the request). */
  attachments: Array<{ name: string, contentType: string, size: number, content: Buffer }>
  /** What the robot names on that platform (a desktop flow, a bot); null where nothing more is needed. */
  robotTarget: RobotTarget | null
  createdAt: Date
}

/** A run as mailrun keeps it: the platform's id for it, and where to ask how it stands when the platform said. */
export interface Run { runId: string | null, statusUrl: string | null }

export interface Platform {
  /**
   * true: every attempt carries the same idempotency key, so a start whose answer was lost is
   * simply sent again. false: such a launch is unsure, `find` looks for its run before anything is
   * started again, and nothing is until the quiet period has passed.
   */
  idempotent: boolean
  start: (connection: TargetConnection, request: RunRequest) => Promise<Run>
  find: (connection: TargetConnection, request: RunRequest) => Promise<string | null>
  /** null when there is nothing to ask (a run whose end comes only by callback). */
  status: (connection: TargetConnection, run: Run & { launchId: string }) => Promise<RunReport | null>
  /** false when the platform has no stop. */
  stop: (connection: TargetConnection, runId: string) => Promise<boolean>
  /** The history lines of a start, and of a run found after an unclear one. */
  started: (runId: string | null) => string
  found: (runId: string) => string
  /** Where the platform has queues (Automation Anywhere's work queues): adding a queue robot's items, and finding those already added. */
  queue?: WorkQueue
}

/** A platform's queue, as a queue robot names it: items carry references (the launch, and its spreadsheet row). */
export interface WorkQueue {
  add: (connection: TargetConnection, request: RunRequest, items: Array<{ reference: string, content: Record<string, unknown> }>) => Promise<void>
  references: (connection: TargetConnection, request: RunRequest, prefix: string) => Promise<Set<string>>
}

function queueOf (request: RunRequest): number {
  if (!isWorkQueue(request.robotTarget)) throw new TargetError(`robot "${request.robot}" names no work queue (automationAnywhere.queueId)`, { transient: false })
  return request.robotTarget.queueId
}

function expect<K extends TargetConnection['kind']> (connection: TargetConnection, kind: K): Extract<TargetConnection, { kind: K }> {
  if (connection.kind !== kind) throw new TargetError(`a ${kind} robot names a ${connection.kind} connection: save the robot again`, { transient: false })
  return connection as Extract<TargetConnection, { kind: K }>
}

export function createPlatforms (clients: { httpTarget: HttpTarget, dataverse: DataverseClient, controlRoom: ControlRoomClient }): Record<TargetConnection['kind'], Platform> {
  const { httpTarget, dataverse, controlRoom } = clients
  return {
    http: {
      idempotent: true,
      async start (connection, request) {
        return await httpTarget.start(expect(connection, 'http'), {
          launchId: request.launchId,
          robot: request.robot,
          sender: request.sender,
          inputs: request.plan.arguments,
          functions: request.plan.functions.map((f) => ({ name: f.name, args: f.args })),
          attachments: request.attachments.map((a) => ({ name: a.name, contentType: a.contentType, size: a.size, content: a.content.toString('base64') }))
        })
      },
      async find () { return null },
      async status (connection, run) {
        return run.statusUrl === null ? null : await httpTarget.status(expect(connection, 'http'), run.statusUrl, run.launchId)
      },
      async stop () { return false },
      started: (runId) => `run ${runId !== null ? `${runId} ` : ''}started at the HTTP target`,
      found: (runId) => `run ${runId} started at the HTTP target`
    },
    power_automate: {
      idempotent: false,
      async start (connection, request) {
        const flow = request.robotTarget
        if (!isDesktopFlow(flow)) throw new TargetError(`robot "${request.robot}" names no desktop flow (powerAutomate.flowId)`, { transient: false })
        const inputs = { ...request.inputs, [LAUNCH_INPUT]: request.launchId }
        return { runId: await dataverse.start(expect(connection, 'power_automate'), flow, inputs), statusUrl: null }
      },
      async find (connection, request) {
        if (!isDesktopFlow(request.robotTarget)) return null
        return await dataverse.findByLaunch(expect(connection, 'power_automate'), request.robotTarget.flowId, request.launchId, request.createdAt)
      },
      async status (connection, run) {
        return run.runId === null ? null : await dataverse.status(expect(connection, 'power_automate'), run.runId)
      },
      async stop (connection, runId) {
        await dataverse.cancel(expect(connection, 'power_automate'), runId)
        return true
      },
      started: (runId) => `desktop flow run ${runId ?? ''} started`,
      found: (runId) => `desktop flow run ${runId} found by ${LAUNCH_INPUT} after an unclear attempt`
    },
    automation_anywhere: {
      idempotent: false,
      async start (connection, request) {
        const bot = request.robotTarget
        if (!isBot(bot)) throw new TargetError(`robot "${request.robot}" names no bot (automationAnywhere.fileId)`, { transient: false })
        return { runId: await controlRoom.deploy(expect(connection, 'automation_anywhere'), bot, request.launchId, request.inputs), statusUrl: null }
      },
      async find (connection, request) {
        return await controlRoom.findByLaunch(expect(connection, 'automation_anywhere'), request.launchId)
      },
      async status (connection, run) {
        return run.runId === null ? null : await controlRoom.status(expect(connection, 'automation_anywhere'), run.runId)
      },
      async stop (connection, runId) {
        await controlRoom.stop(expect(connection, 'automation_anywhere'), runId)
        return true
      },
      started: (runId) => `bot deployment ${runId ?? ''} started`,
      found: (runId) => `bot deployment ${runId} found by its automation name "${AUTOMATION_PREFIX.trim()} <launch id>" after an unclear attempt`,
      queue: {
        async add (connection, request, items) {
          await controlRoom.addWorkItems(expect(connection, 'automation_anywhere'), queueOf(request), items)
        },
        async references (connection, request, prefix) {
          return await controlRoom.workItemReferences(expect(connection, 'automation_anywhere'), queueOf(request), prefix)
        }
      }
    }
  }
}
