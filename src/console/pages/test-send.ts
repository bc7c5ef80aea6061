import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { FunctionDeclaration, ParameterDeclaration } from '../../db/schema.js'
import { exampleCommand } from '../../notify/compose-reply.js'
import { TestSendCreate } from '../../schemas/test-sends.js'
import { checked } from '../../schemas/validate.js'
import { render, userOf } from '../context.js'
import { formError, readForm } from '../forms.js'

// Test send: a command composed as one of the tenant's senders, checked (dry run: with the exact
// Orchestrator request shown) or launched for real, marked as a console test in the history.

export default async function testSendPages (app: FastifyInstance): Promise<void> {
  const { robots, senders, mailboxes, testSends } = app.resources

  const choices = async (tenantId: string) => ({
    robots: (await robots.list(tenantId, { limit: 200 })).items,
    senders: (await senders.list(tenantId, { limit: 200 })).items.filter((s) => s.active),
    mailboxes: (await mailboxes.list(tenantId, { limit: 200 })).items
  })

  app.get('/console/test-send', async (request: FastifyRequest<{ Querystring: { robotId?: string } }>, reply) => {
    const tenantId = userOf(request).tenantId
    const lists = await choices(tenantId)
    const robot = lists.robots.find((r) => r.id === request.query.robotId) ?? lists.robots[0]
    const text = robot !== undefined ? exampleCommand({ name: robot.name, description: robot.description, parameters: robot.parameters as ParameterDeclaration[], functions: robot.functions as FunctionDeclaration[] }) : ''
    const form = { robotId: robot?.id ?? '', senderId: lists.senders.find((s) => robot?.allowAllSenders === true || robot?.senderIds.includes(s.id) === true)?.id ?? '', mailboxId: lists.mailboxes[0]?.id ?? '', text, attempt: randomUUID() }
    return await render(request, reply, 'test-send.eta', { title: 'test.title', ...lists, form, result: null, error: null })
  })

  app.post('/console/test-send', async (request: FastifyRequest<{ Body: Record<string, string | undefined> }>, reply) => {
    const user = userOf(request)
    const form = readForm(request.body)
    const lists = await choices(user.tenantId)
    // The form's own key (a new one each time it is shown): posting the same form again — a
    // reload, a double click, the back button — meets the first launch instead of a second.
    const attempt = /^[0-9a-f-]{36}$/.test(form.attempt ?? '') ? form.attempt : undefined
    const shown = { robotId: form.robotId ?? '', senderId: form.senderId ?? '', mailboxId: form.mailboxId ?? '', text: form.text ?? '', attempt: randomUUID() }
    try {
      const launching = form.mode === 'launch'
      const body = checked(TestSendCreate, { robotId: shown.robotId, senderId: shown.senderId, ...(shown.mailboxId !== '' ? { mailboxId: shown.mailboxId } : {}), text: shown.text, dryRun: !launching })
      const result = await testSends.run(user.tenantId, body, `${user.name !== '' ? user.name : user.email} in the console`, launching ? attempt : undefined)
      // A launch answers with a redirect to it (post/redirect/get): reloading shows it, never repeats it.
      if (result.launch !== null) return await reply.redirect(`/console/launches/${result.launch.id}?done=tested`, 303)
      return await render(request, reply, 'test-send.eta', { title: 'test.title', ...lists, form: shown, result, error: null })
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'test-send.eta', { title: 'test.title', ...lists, form: shown, result: null, error: problem.message }, problem.status)
    }
  })
}
