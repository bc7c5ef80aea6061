import type { Static } from '@sinclair/typebox'
import type { Selectable } from 'kysely'
import { isSigningSecret, newSigningSecret } from '../crypto/standard-webhooks.js'
import type { ConnectionsTable, OrchestratorConnectionsTable } from '../db/schema.js'
import { isUniqueViolation } from '../db/errors.js'
import { errors, fieldError } from '../errors.js'
import { marker } from '../schemas/common.js'
import type { Connection, ConnectionCreate, ConnectionPatch, ConnectionTestResult } from '../schemas/connections.js'
import type { HttpTarget } from '../targets/http/http-target.js'
import type { ControlRoomClient } from '../targets/automation-anywhere/control-room-client.js'
import { openAutomationAnywhere, openPowerAutomate } from '../targets/open-target.js'
import type { DataverseClient } from '../targets/power-automate/dataverse-client.js'
import { TargetError } from '../targets/target-error.js'
import { allowedUrl, sealedUrl } from './allowed-url.js'
import type { PageOf, ResourceDeps } from './context.js'
import { refusePlaceholders } from './placeholders.js'

// A tenant's launch targets. The UiPath Orchestrator connection keeps its own endpoint
// (/api/v1/orchestrator) and is listed here as kind uipath; HTTP targets, Power Automate
// environments and Automation Anywhere Control Rooms are made here. URLs and secrets are sealed and never shown back; an HTTP target's
// signing secret is answered once, when mailrun makes it.

export type ConnectionView = Static<typeof Connection>
type Create = Static<typeof ConnectionCreate>
type Patch = Static<typeof ConnectionPatch>

const MAX_CONNECTIONS = 50

const notFound = (id: string): Error => new errors.NotFound(`no connection ${id} in this tenant`)
const nameTaken = (name: string): Error => new errors.Conflict(`a connection named "${name}" exists: choose another name`)
const isUiPath = (): Error => new errors.Conflict('this is the UiPath Orchestrator connection: change it with PUT /api/v1/orchestrator')
const DEFAULT_AUTHORITY = 'https://login.microsoftonline.com'

type Fields = Partial<Pick<Create, 'url' | 'signingSecret' | 'environmentUrl' | 'tenantId' | 'clientId' | 'clientSecret' | 'authority' | 'controlRoomUrl' | 'username' | 'apiKey'>> & { rotateSecret?: boolean | undefined }
type Kind = Create['kind']

/** The fields each kind takes, and those it cannot be made without. */
const KIND_FIELDS: Record<Kind, { takes: Array<keyof Fields>, needs: Array<keyof Fields> }> = {
  http: { takes: ['url', 'signingSecret', 'rotateSecret'], needs: ['url'] },
  power_automate: { takes: ['environmentUrl', 'tenantId', 'clientId', 'clientSecret', 'authority'], needs: ['environmentUrl', 'tenantId', 'clientId', 'clientSecret'] },
  automation_anywhere: { takes: ['controlRoomUrl', 'username', 'apiKey'], needs: ['controlRoomUrl', 'username', 'apiKey'] }
}
const ALL_FIELDS = [...new Set(Object.values(KIND_FIELDS).flatMap((k) => k.takes))]
const article = (kind: Kind): string => kind === 'power_automate' ? 'a' : 'an'

/** Which fields a kind takes; any other is refused by name, so a mistake is not silently ignored. */
function checkFields (kind: Kind, body: Fields, creating: boolean): void {
  const { takes, needs } = KIND_FIELDS[kind]
  for (const field of ALL_FIELDS) {
    if (!takes.includes(field) && body[field] !== undefined) throw fieldError(field, `is not used by ${article(kind)} ${kind} connection: leave it out`)
  }
  if (!creating) return
  for (const field of needs) {
    if (body[field] === undefined) throw fieldError(field, kind === 'http' ? 'is required for an http connection: the URL launches are POSTed to' : `is required for ${article(kind)} ${kind} connection`)
  }
}

const hostOf = (value: string): string => {
  try {
    const url = new URL(value)
    return `${url.protocol}//${url.host}`
  } catch {
    return value
  }
}

export function connectionsResource (deps: ResourceDeps & { httpTarget: HttpTarget, dataverse: DataverseClient, controlRoom: ControlRoomClient }) {
  const { db } = deps
  const sealing = { deny: deps.config.outboundDeny, secrets: deps.secrets }

  const robotCounts = db.selectFrom('robots').select(['connection_id', (eb) => eb.fn.countAll<string>().as('n')]).groupBy('connection_id')

  function present (row: Selectable<ConnectionsTable>, robots: number, signingSecret?: string): ConnectionView {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      urlHost: row.url_hint,
      secret: marker(row.secret_enc),
      ...(signingSecret !== undefined ? { signingSecret } : {}),
      callbackUrl: row.kind === 'http' ? `${deps.config.publicUrl}/webhooks/http/${row.id}` : null,
      tenantId: row.settings.tenantId ?? null,
      clientId: row.settings.clientId ?? null,
      username: row.settings.username ?? null,
      robots,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString()
    }
  }

  function presentUiPath (row: Selectable<OrchestratorConnectionsTable>, robots: number): ConnectionView {
    return {
      id: row.id,
      name: 'UiPath Orchestrator',
      kind: 'uipath',
      urlHost: hostOf(row.url),
      secret: marker(row.secret_enc),
      callbackUrl: null,
      tenantId: null,
      clientId: null,
      username: null,
      robots,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString()
    }
  }

  async function countRobots (tenantId: string, connectionId: string | null): Promise<number> {
    const found = await db.selectFrom('robots').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId)
      .where('connection_id', connectionId === null ? 'is' : '=', connectionId).executeTakeFirstOrThrow()
    return Number(found.n)
  }

  async function uipath (tenantId: string): Promise<Selectable<OrchestratorConnectionsTable> | undefined> {
    return await db.selectFrom('orchestrator_connections').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst()
  }

  async function row (tenantId: string, id: string): Promise<Selectable<ConnectionsTable>> {
    const found = await db.selectFrom('connections').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (found === undefined) {
      if ((await uipath(tenantId))?.id === id) throw isUiPath()
      throw notFound(id)
    }
    return found
  }

  /** A power_automate connection's settings, the stored ones with what the body changes. */
  async function powerAutomateSettings (body: Fields, current: Partial<{ tenantId: string, clientId: string, authority: string }> = {}): Promise<string> {
    const authority = body.authority ?? current.authority ?? DEFAULT_AUTHORITY
    if (body.authority !== undefined) await allowedUrl(deps.config.outboundDeny, 'authority', body.authority)
    return JSON.stringify({ tenantId: body.tenantId ?? current.tenantId, clientId: body.clientId ?? current.clientId, authority: authority.replace(/\/+$/, '') })
  }

  return {
    async list (tenantId: string): Promise<PageOf<ConnectionView>> {
      const counts = new Map((await robotCounts.where('tenant_id', '=', tenantId).execute()).map((r) => [r.connection_id, Number(r.n)]))
      const orchestrator = await uipath(tenantId)
      const http = await db.selectFrom('connections').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute()
      return {
        items: [
          ...(orchestrator !== undefined ? [presentUiPath(orchestrator, counts.get(null) ?? 0)] : []),
          ...http.map((r) => present(r, counts.get(r.id) ?? 0))
        ],
        nextCursor: null
      }
    },

    async get (tenantId: string, id: string): Promise<ConnectionView> {
      const found = await db.selectFrom('connections').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (found !== undefined) return present(found, await countRobots(tenantId, id))
      const orchestrator = await uipath(tenantId)
      if (orchestrator?.id === id) return presentUiPath(orchestrator, await countRobots(tenantId, null))
      throw notFound(id)
    },

    async create (tenantId: string, body: Create): Promise<ConnectionView> {
      refusePlaceholders(body)
      checkFields(body.kind, body, true)
      if (body.signingSecret !== undefined && !isSigningSecret(body.signingSecret)) throw fieldError('signingSecret', 'must be whsec_ followed by 24 to 64 bytes in base64, as the Standard Webhooks libraries make it; leave it out and mailrun makes one')
      const count = await db.selectFrom('connections').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()
      if (Number(count.n) >= MAX_CONNECTIONS) throw new errors.Conflict(`a tenant has at most ${MAX_CONNECTIONS} connections: delete one first`)
      const made = body.kind === 'http' && body.signingSecret === undefined ? newSigningSecret() : undefined
      const kindColumns = body.kind === 'http'
        ? { ...await sealedUrl(sealing, 'url', body.url ?? ''), secret_enc: deps.secrets.seal(made ?? body.signingSecret ?? '') }
        : body.kind === 'automation_anywhere'
          ? { ...await sealedUrl(sealing, 'controlRoomUrl', body.controlRoomUrl ?? ''), secret_enc: deps.secrets.seal(body.apiKey ?? ''), settings: JSON.stringify({ username: body.username }) }
          : { ...await sealedUrl(sealing, 'environmentUrl', body.environmentUrl ?? ''), secret_enc: deps.secrets.seal(body.clientSecret ?? ''), settings: await powerAutomateSettings(body) }
      try {
        const created = await db.insertInto('connections').values({
          tenant_id: tenantId,
          name: body.name,
          kind: body.kind,
          ...kindColumns
        }).returningAll().executeTakeFirstOrThrow()
        return present(created, 0, made)
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(body.name)
        throw error
      }
    },

    async update (tenantId: string, id: string, body: Patch): Promise<ConnectionView> {
      const current = await row(tenantId, id)
      refusePlaceholders(body)
      checkFields(current.kind, body, false)
      const signingSecret = body.rotateSecret === true ? newSigningSecret() : undefined
      const changesSettings = body.tenantId !== undefined || body.clientId !== undefined || body.authority !== undefined
      try {
        const updated = await db.updateTable('connections').set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.url !== undefined ? await sealedUrl(sealing, 'url', body.url) : {}),
          ...(body.environmentUrl !== undefined ? await sealedUrl(sealing, 'environmentUrl', body.environmentUrl) : {}),
          ...(changesSettings ? { settings: await powerAutomateSettings(body, current.settings) } : {}),
          ...(body.controlRoomUrl !== undefined ? await sealedUrl(sealing, 'controlRoomUrl', body.controlRoomUrl) : {}),
          ...(body.username !== undefined ? { settings: JSON.stringify({ username: body.username }) } : {}),
          ...(body.clientSecret !== undefined ? { secret_enc: deps.secrets.seal(body.clientSecret) } : {}),
          ...(body.apiKey !== undefined ? { secret_enc: deps.secrets.seal(body.apiKey) } : {}),
          ...(signingSecret !== undefined ? { secret_enc: deps.secrets.seal(signingSecret) } : {}),
          updated_at: new Date()
        }).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst()
        if (updated === undefined) throw notFound(id)
        return present(updated, await countRobots(tenantId, id), signingSecret)
      } catch (error) {
        if (isUniqueViolation(error) && body.name !== undefined) throw nameTaken(body.name)
        throw error
      }
    },

    async remove (tenantId: string, id: string): Promise<void> {
      await row(tenantId, id)
      const users = await db.selectFrom('robots').select('name').where('tenant_id', '=', tenantId).where('connection_id', '=', id).orderBy('name').limit(4).execute()
      if (users.length > 0) {
        throw new errors.Conflict(`robots launch through this connection (${users.slice(0, 3).map((r) => `"${r.name}"`).join(', ')}${users.length > 3 ? ', …' : ''}): move them to another connection or delete them first`)
      }
      // Finished launches keep their history; they just no longer name the connection.
      await db.deleteFrom('connections').where('tenant_id', '=', tenantId).where('id', '=', id).execute()
    },

    /** Checks, step by step, that mailrun may and can reach the target, without starting a run. */
    async test (tenantId: string, id: string): Promise<Static<typeof ConnectionTestResult>> {
      const found = await row(tenantId, id)
      if (found.kind === 'power_automate' || found.kind === 'automation_anywhere') {
        const steps = found.kind === 'power_automate' ? await deps.dataverse.probe(openPowerAutomate(found, deps.secrets)) : await deps.controlRoom.probe(openAutomationAnywhere(found, deps.secrets))
        return { ok: steps.every((s) => s.ok), steps }
      }
      const url = deps.secrets.open(found.url_enc)
      const steps: Array<{ step: string, ok: boolean, detail: string }> = []
      try {
        await allowedUrl(deps.config.outboundDeny, 'url', url)
        steps.push({ step: 'address', ok: true, detail: `${found.url_hint} may be reached` })
      } catch (error) {
        steps.push({ step: 'address', ok: false, detail: error instanceof Error ? error.message : String(error) })
        return { ok: false, steps }
      }
      try {
        const answer = await deps.httpTarget.probe(url)
        steps.push({ step: 'reachable', ok: true, detail: `the target answered ${answer.status} to a GET (no run was started)` })
      } catch (error) {
        steps.push({ step: 'reachable', ok: false, detail: error instanceof TargetError ? error.message : String(error) })
      }
      return { ok: steps.every((s) => s.ok), steps }
    }
  }
}

export type ConnectionsResource = ReturnType<typeof connectionsResource>
