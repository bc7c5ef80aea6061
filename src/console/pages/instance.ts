import type { FastifyInstance, FastifyRequest } from 'fastify'
import { pendingMigrations } from '../../db/migrate.js'
import { countStuck } from '../../pipeline/undecided.js'
import { TenantCreate, TenantPatch } from '../../schemas/tenants.js'
import { UserCreate } from '../../schemas/users.js'
import { checked } from '../../schemas/validate.js'
import { render } from '../context.js'
import { formError, readForm } from '../forms.js'

// The instance admin's pages: tenants (create, licences, keys, delete) and the instance's health.
// Only a session opened with the instance-admin key reaches them; anyone else gets 404.

type Form = Record<string, string | undefined>

function tenantBody (form: Form) {
  const contact = (form.contactEmail ?? '').trim()
  // One domain per line (commas and spaces also separate them).
  const domains = (form.domains ?? '').split(/[\s,;]+/).filter((domain) => domain !== '')
  const retention = (form.retentionDays ?? '').trim()
  return {
    name: (form.name ?? '').trim(),
    maxMailboxes: Number((form.maxMailboxes ?? '').trim() || Number.NaN),
    locale: form.locale === 'ru' ? 'ru' as const : 'en' as const,
    contactEmail: contact === '' ? null : contact,
    domains,
    // Empty: the instance's default. Anything else must be a whole number of days (NaN is refused).
    retentionDays: retention === '' ? null : /^\d+$/.test(retention) ? Number(retention) : Number.NaN,
    timeZone: (form.timeZone ?? '').trim() === '' ? 'UTC' : (form.timeZone ?? '').trim()
  }
}

export default async function instancePages (app: FastifyInstance): Promise<void> {
  const { tenants, apiKeys, users } = app.resources

  const health = async () => ({
    database: app.database.kind,
    pendingMigrations: await pendingMigrations(app.db),
    stuckMessages: await countStuck(app.db),
    stalledMailboxes: (await app.sweeper.stalled()).length,
    publicUrl: app.config.publicUrl
  })
  const overview = async (request: FastifyRequest<{ Querystring: { cursor?: string } }>, extra: Record<string, unknown> = {}) => ({
    title: 'admin.title',
    page: await tenants.list({ limit: 100, ...(typeof request.query.cursor === 'string' ? { cursor: request.query.cursor } : {}) }),
    health: await health(),
    form: { name: '', maxMailboxes: '1', locale: 'en', contactEmail: '', domains: '', retentionDays: '', timeZone: 'UTC' },
    defaultRetentionDays: app.config.retentionDays,
    error: null,
    notice: null,
    ...extra
  })

  app.get('/console/admin', async (request: FastifyRequest<{ Querystring: { cursor?: string, done?: string } }>, reply) =>
    await render(request, reply, 'admin.eta', await overview(request, { notice: request.query.done === 'deleted' ? 'admin.deleted' : null })))

  app.post('/console/admin/tenants', async (request: FastifyRequest<{ Body: Form, Querystring: { cursor?: string } }>, reply) => {
    const form = readForm(request.body)
    try {
      const created = await tenants.create(checked(TenantCreate, tenantBody(form)))
      return await reply.redirect(`/console/admin/tenants/${created.id}`, 303)
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'admin.eta', await overview(request, { form, error: problem.message }), problem.status)
    }
  })

  const tenantPage = async (id: string, extra: Record<string, unknown> = {}) => {
    const tenant = await tenants.get(id)
    const userCount = (await users.list(id, { limit: 200 })).items.length
    return { title: 'admin.title', tenant, keys: await apiKeys.list(id), userCount, link: null, form: { ...tenant, maxMailboxes: String(tenant.maxMailboxes), contactEmail: tenant.contactEmail ?? '', domains: tenant.domains.join('\n'), retentionDays: tenant.retentionDays === null ? '' : String(tenant.retentionDays) }, defaultRetentionDays: app.config.retentionDays, newKey: null, error: null, notice: null, ...extra }
  }

  app.get('/console/admin/tenants/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) =>
    await render(request, reply, 'admin-tenant.eta', await tenantPage(request.params.id)))

  app.post('/console/admin/tenants/:id', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    const form = readForm(request.body)
    try {
      await tenants.update(request.params.id, checked(TenantPatch, tenantBody(form)))
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'admin-tenant.eta', await tenantPage(request.params.id, { form, error: problem.message }), problem.status)
    }
    return await render(request, reply, 'admin-tenant.eta', await tenantPage(request.params.id, { notice: 'senders.saved' }))
  })

  app.post('/console/admin/tenants/:id/keys', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    await tenants.assertExists(request.params.id)
    const key = await apiKeys.create(request.params.id, (readForm(request.body).name ?? '').trim().slice(0, 200))
    return await render(request, reply, 'admin-tenant.eta', await tenantPage(request.params.id, { newKey: key }), 201)
  })

  app.post('/console/admin/tenants/:id/keys/:keyId/revoke', async (request: FastifyRequest<{ Params: { id: string, keyId: string } }>, reply) => {
    await apiKeys.revoke(request.params.id, request.params.keyId)
    return await render(request, reply, 'admin-tenant.eta', await tenantPage(request.params.id, { notice: 'team.revoked' }))
  })

  // A new tenant's first console user: without it only curl could make one.
  app.post('/console/admin/tenants/:id/users', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    const form = readForm(request.body)
    await tenants.assertExists(request.params.id)
    try {
      const invite = checked(UserCreate, { email: (form.email ?? '').trim(), name: (form.name ?? '').trim(), role: form.role === 'viewer' ? 'viewer' : 'admin' })
      const created = await users.create(request.params.id, invite, { anyDomain: true })
      return await render(request, reply, 'admin-tenant.eta', await tenantPage(request.params.id, { link: { email: created.email, url: created.setPasswordUrl } }), 201)
    } catch (error) {
      const problem = formError(error, request)
      return await render(request, reply, 'admin-tenant.eta', await tenantPage(request.params.id, { error: problem.message }), problem.status)
    }
  })

  app.post('/console/admin/tenants/:id/delete', async (request: FastifyRequest<{ Params: { id: string }, Body: Form }>, reply) => {
    const tenant = await tenants.get(request.params.id)
    if ((readForm(request.body).confirm ?? '').trim() !== tenant.name) {
      return await render(request, reply, 'admin-tenant.eta', await tenantPage(tenant.id, { error: `type the tenant's name, ${tenant.name}, to delete it with everything it owns` }), 400)
    }
    await tenants.remove(tenant.id)
    return await reply.redirect('/console/admin?done=deleted', 303)
  })
}
