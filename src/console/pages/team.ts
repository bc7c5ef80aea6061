import type { FastifyInstance, FastifyRequest } from 'fastify'
import { errors } from '../../errors.js'
import { UserCreate } from '../../schemas/users.js'
import { checked } from '../../schemas/validate.js'
import { render, userOf } from '../context.js'
import { formError, readForm } from '../forms.js'

// The team: console users (invite with a one-time link, role, disable, new link, remove) and the
// tenant's API keys (created and shown once, revoked). An admin cannot disable or remove
// themselves, so a team always keeps a way in.

type Form = Record<string, string | undefined>

export default async function teamPages (app: FastifyInstance): Promise<void> {
  const { users, apiKeys, audit } = app.resources

  const team = async (request: FastifyRequest, extra: Record<string, unknown> = {}) => {
    const tenantId = userOf(request).tenantId
    // Admins see who changed what: the last 50 changes (the API pages through all of them).
    const changes = userOf(request).role === 'admin' ? (await audit.list(tenantId, { limit: 50 })).items : []
    return { title: 'team.title', users: (await users.list(tenantId, { limit: 200 })).items, keys: await apiKeys.list(tenantId), changes, invite: { email: '', name: '', role: 'viewer' }, link: null, newKey: null, error: null, notice: null, ...extra }
  }
  const notSelf = (request: FastifyRequest, id: string): void => {
    if (userOf(request).id === id) throw new errors.Conflict('you cannot do this to yourself: ask another admin of your team')
  }

  app.get('/console/team', async (request, reply) => await render(request, reply, 'team.eta', await team(request)))

  app.post('/console/team/users', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const form = readForm(request.body)
    const invite = { email: (form.email ?? '').trim(), name: (form.name ?? '').trim(), role: form.role === 'admin' ? 'admin' : 'viewer' }
    try {
      const created = await users.create(userOf(request).tenantId, checked(UserCreate, invite))
      return await render(request, reply, 'team.eta', await team(request, { link: { email: created.email, url: created.setPasswordUrl } }), 201)
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'team.eta', await team(request, { invite, error: problem.message }), problem.status)
    }
  })

  app.post('/console/team/users/:id', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    const form = readForm(request.body)
    const tenantId = userOf(request).tenantId
    try {
      if (form.action === 'link') {
        const user = await users.get(tenantId, request.params.id)
        const url = await users.resetPasswordLink(tenantId, user.id)
        return await render(request, reply, 'team.eta', await team(request, { link: { email: user.email, url } }))
      }
      if (form.action === 'remove') {
        notSelf(request, request.params.id)
        await users.remove(tenantId, request.params.id)
      } else {
        if (form.role !== 'admin' || form.disabled === 'on') notSelf(request, request.params.id)
        await users.update(tenantId, request.params.id, { role: form.role === 'admin' ? 'admin' : 'viewer', disabled: form.disabled === 'on' })
      }
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'team.eta', await team(request, { error: problem.message }), problem.status)
    }
    return await render(request, reply, 'team.eta', await team(request, { notice: 'senders.saved' }))
  })

  app.post('/console/team/keys', async (request: FastifyRequest<{ Body: Form }>, reply) => {
    const name = (readForm(request.body).name ?? '').trim().slice(0, 200)
    const key = await apiKeys.create(userOf(request).tenantId, name)
    return await render(request, reply, 'team.eta', await team(request, { newKey: key }), 201)
  })

  app.post('/console/team/keys/:id/revoke', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    await apiKeys.revoke(userOf(request).tenantId, request.params.id)
    return await render(request, reply, 'team.eta', await team(request, { notice: 'team.revoked' }))
  })
}
