import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { FunctionDeclaration, ParameterDeclaration } from '../../db/schema.js'
import { exampleCommand } from '../../notify/compose-reply.js'
import { RobotCreate } from '../../schemas/robots.js'
import type { RobotView } from '../../resources/robots.js'
import { functionsFromText, functionsToText, parametersFromText, parametersToText } from '../catalogue-text.js'
import { render, userOf } from '../context.js'
import { checkShape, formError, readForm } from '../forms.js'

// Robots: list, add, change (catalogue as text, allow-list as checkboxes), delete; each robot shows
// an example email that passes its checks, with a mailto: link that opens it in a mail client.

type Body = Record<string, string | string[] | undefined>

interface RobotForm { name: string, processName: string, folder: string, launchMode: string, queueName: string, invalidRows: string, extraColumns: string, escapeFormulas: boolean, attachmentsBucket: string, attachmentsFolder: string, attachmentsMaxMb: string, attachmentsTypes: string, functionsArgument: string, description: string, allowAllSenders: boolean, senderIds: string[], parameters: string, functions: string, connectionId: string, flowId: string, flowConnection: string, flowConnectionReference: boolean, botFileId: string, botRunAsUserIds: string, botPoolIds: string, botQueueId: string, attachmentsInRequest: boolean }

function formOf (robot: RobotView | null): RobotForm {
  const bot = robot?.automationAnywhere ?? null
  return {
    name: robot?.name ?? '',
    processName: robot?.processName ?? '',
    folder: robot?.folder ?? '',
    launchMode: robot?.launchMode ?? 'job',
    queueName: robot?.queueName ?? '',
    invalidRows: robot?.invalidRows ?? 'reject',
    extraColumns: robot?.extraColumns ?? 'ignore',
    escapeFormulas: robot?.escapeFormulas ?? true,
    attachmentsBucket: robot?.attachments?.bucket ?? '',
    attachmentsFolder: robot?.attachments?.folder ?? '',
    attachmentsMaxMb: robot?.attachments !== null && robot?.attachments !== undefined ? String(Math.round(robot.attachments.maxBytes / 1024 / 1024 * 10) / 10) : '10',
    attachmentsTypes: robot?.attachments?.types.join(', ') ?? '',
    functionsArgument: robot?.functionsArgument ?? 'in_Functions',
    description: robot?.description ?? '',
    allowAllSenders: robot?.allowAllSenders ?? false,
    senderIds: robot?.senderIds ?? [],
    parameters: parametersToText((robot?.parameters ?? []) as ParameterDeclaration[]),
    functions: functionsToText((robot?.functions ?? []) as FunctionDeclaration[]),
    connectionId: robot?.connectionId ?? '',
    flowId: robot?.powerAutomate?.flowId ?? '',
    flowConnection: robot?.powerAutomate?.connectionName ?? '',
    flowConnectionReference: robot?.powerAutomate?.connectionReference ?? false,
    botFileId: bot !== null && 'fileId' in bot ? String(bot.fileId) : '',
    botRunAsUserIds: bot !== null && 'fileId' in bot ? bot.runAsUserIds.join(', ') : '',
    botPoolIds: bot !== null && 'fileId' in bot ? bot.poolIds.join(', ') : '',
    botQueueId: bot !== null && 'queueId' in bot ? String(bot.queueId) : '',
    attachmentsInRequest: robot?.attachments !== null && robot?.attachments !== undefined && robot.attachments.bucket === ''
  }
}

function formFrom (body: Body): RobotForm {
  const form = readForm(body)
  const ids = body.senderIds
  return {
    name: (form.name ?? '').trim(),
    processName: (form.processName ?? '').trim(),
    folder: (form.folder ?? '').trim(),
    launchMode: form.launchMode === 'queue' ? 'queue' : 'job',
    queueName: (form.queueName ?? '').trim(),
    invalidRows: form.invalidRows === 'skip' ? 'skip' : 'reject',
    extraColumns: form.extraColumns === 'reject' ? 'reject' : 'ignore',
    escapeFormulas: form.escapeFormulas === 'on',
    attachmentsBucket: (form.attachmentsBucket ?? '').trim(),
    attachmentsFolder: (form.attachmentsFolder ?? '').trim(),
    attachmentsMaxMb: (form.attachmentsMaxMb ?? '').trim(),
    attachmentsTypes: form.attachmentsTypes ?? '',
    functionsArgument: (form.functionsArgument ?? '').trim() || 'in_Functions',
    description: form.description ?? '',
    allowAllSenders: form.allowAllSenders === 'on',
    senderIds: (Array.isArray(ids) ? ids : ids === undefined ? [] : [ids]).map(String),
    parameters: form.parameters ?? '',
    functions: form.functions ?? '',
    connectionId: (form.connectionId ?? '').trim(),
    flowId: (form.flowId ?? '').trim(),
    flowConnection: (form.flowConnection ?? '').trim(),
    flowConnectionReference: form.flowConnectionReference === 'on',
    botFileId: (form.botFileId ?? '').trim(),
    botRunAsUserIds: (form.botRunAsUserIds ?? '').trim(),
    botPoolIds: (form.botPoolIds ?? '').trim(),
    botQueueId: (form.botQueueId ?? '').trim(),
    attachmentsInRequest: form.attachmentsInRequest === 'on'
  }
}

/** The API's body for a form; the catalogue text is read here, so its errors name the line. */
function bodyFrom (form: RobotForm) {
  const body = {
    name: form.name,
    processName: form.processName !== '' ? form.processName : form.name,
    folder: form.folder !== '' ? form.folder : null,
    launchMode: form.launchMode as 'job' | 'queue',
    queueName: form.queueName !== '' ? form.queueName : null,
    invalidRows: form.invalidRows as 'reject' | 'skip',
    extraColumns: form.extraColumns as 'reject' | 'ignore',
    escapeFormulas: form.escapeFormulas,
    // No bucket: the robot takes no attachments — unless they go in an HTTP target's request.
    attachments: form.attachmentsBucket === '' && !form.attachmentsInRequest
      ? null
      : {
          ...(form.attachmentsBucket !== '' ? { bucket: form.attachmentsBucket } : {}),
          folder: form.attachmentsFolder,
          ...(form.attachmentsMaxMb !== '' ? { maxBytes: Math.round(Number(form.attachmentsMaxMb.replace(',', '.')) * 1024 * 1024) } : {}),
          types: form.attachmentsTypes.split(/[\s,;]+/).map((t) => t.replace(/^\./, '').toLowerCase()).filter((t) => t !== '')
        },
    functionsArgument: form.functionsArgument,
    description: form.description,
    allowAllSenders: form.allowAllSenders,
    senderIds: form.senderIds,
    parameters: parametersFromText(form.parameters),
    functions: functionsFromText(form.functions),
    // Blank: the tenant's UiPath connection.
    connectionId: form.connectionId !== '' ? form.connectionId : null,
    // A desktop flow is named only for a robot on Power Automate; the API says so when it is missing.
    powerAutomate: form.flowId !== '' || form.flowConnection !== '' ? { flowId: form.flowId, connectionName: form.flowConnection, connectionReference: form.flowConnectionReference } : null,
    // Likewise a bot, for a robot on Automation Anywhere.
    automationAnywhere: form.botQueueId !== ''
      ? { queueId: Number(form.botQueueId) }
      : form.botFileId !== '' ? { fileId: Number(form.botFileId), runAsUserIds: idList(form.botRunAsUserIds), poolIds: idList(form.botPoolIds) } : null
  }
  checkShape(RobotCreate, body)
  return body
}

/** "31, 32" → [31, 32]; a word that is not a number stays NaN, which the schema check refuses by name. */
const idList = (text: string): number[] => text.split(/[\s,;]+/).filter((t) => t !== '').map(Number)

const exampleOf = (robot: RobotView): string => exampleCommand({ name: robot.name, description: robot.description, parameters: robot.parameters as ParameterDeclaration[], functions: robot.functions as FunctionDeclaration[] })

export default async function robotPages (app: FastifyInstance): Promise<void> {
  const { robots, senders, mailboxes, connections } = app.resources
  const allSenders = async (tenantId: string) => (await senders.list(tenantId, { limit: 200 })).items
  /** The HTTP targets a robot may be launched through (blank in the form: the UiPath connection). */
  const targets = async (tenantId: string) => (await connections.list(tenantId)).items.filter((c) => c.kind !== 'uipath')

  app.get('/console/robots', async (request: FastifyRequest<{ Querystring: { cursor?: string, done?: string } }>, reply) => {
    const tenantId = userOf(request).tenantId
    const page = await robots.list(tenantId, { limit: 50, ...(typeof request.query.cursor === 'string' ? { cursor: request.query.cursor } : {}) })
    return await render(request, reply, 'robots.eta', { title: 'robots.title', page, notice: request.query.done === 'deleted' ? 'robots.deleted' : null })
  })

  app.get('/console/robots/new', async (request, reply) => {
    return await render(request, reply, 'robot-form.eta', { title: 'robots.add', robot: null, form: formOf(null), senders: await allSenders(userOf(request).tenantId), targets: await targets(userOf(request).tenantId), error: null })
  })

  app.post('/console/robots', async (request: FastifyRequest<{ Body: Body }>, reply) => {
    const tenantId = userOf(request).tenantId
    const form = formFrom(request.body)
    let created: RobotView
    try {
      created = await robots.create(tenantId, bodyFrom(form))
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'robot-form.eta', { title: 'robots.add', robot: null, form, senders: await allSenders(tenantId), targets: await targets(tenantId), error: problem.message }, problem.status)
    }
    return await reply.redirect(`/console/robots/${created.id}?done=created`, 303)
  })

  app.get('/console/robots/:id', async (request: FastifyRequest<{ Params: { id: string }, Querystring: { done?: string } }>, reply) => {
    const tenantId = userOf(request).tenantId
    const robot = await robots.get(tenantId, request.params.id)
    const mailbox = (await mailboxes.list(tenantId, { limit: 200 })).items.find((m) => m.active)
    const example = exampleOf(robot)
    const mailto = mailbox !== undefined ? `mailto:${mailbox.address}?subject=${encodeURIComponent(robot.name)}&body=${encodeURIComponent(example)}` : null
    const notice = request.query.done === 'created' ? 'robots.created' : request.query.done === 'saved' ? 'robots.saved' : null
    return await render(request, reply, 'robot.eta', { title: 'robots.title', robot, form: formOf(robot), senders: await allSenders(tenantId), targets: await targets(tenantId), example, mailto, mailbox: mailbox?.address ?? null, error: null, notice })
  })

  app.post('/console/robots/:id', async (request: FastifyRequest<{ Params: { id: string }, Body: Body }>, reply) => {
    const tenantId = userOf(request).tenantId
    const robot = await robots.get(tenantId, request.params.id)
    const form = formFrom(request.body)
    try {
      await robots.update(tenantId, robot.id, bodyFrom(form))
    } catch (error) {
      const problem = formError(error, request)
      const example = exampleOf(robot)
      return await render(request, reply, 'robot.eta', { title: 'robots.title', robot, form, senders: await allSenders(tenantId), targets: await targets(tenantId), example, mailto: null, mailbox: null, error: problem.message, notice: null }, problem.status)
    }
    return await reply.redirect(`/console/robots/${robot.id}?done=saved`, 303)
  })

  app.post('/console/robots/:id/delete', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    await robots.remove(userOf(request).tenantId, request.params.id)
    return await reply.redirect('/console/robots?done=deleted', 303)
  })
}
