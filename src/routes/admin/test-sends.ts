import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tenantOf } from '../../plugins/auth.js'
import { errorResponses } from '../../schemas/common.js'
import { TestSendCreate, TestSendResult } from '../../schemas/test-sends.js'

// Trying a robot without an email, as the console's "Test send" does. HTTP only; the rules live
// in resources/test-sends.ts.

const testSendRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireTenant)

  app.post('/api/v1/test-sends', {
    schema: {
      tags: ['robots'],
      security: [{ bearer: [] }],
      summary: "Run a command as one of the tenant's senders: a dry run checks it and shows the Orchestrator request; a real run launches it, marked as a test",
      description: 'A real run (dryRun false) may carry an Idempotency-Key header: the same key with the same body answers what the first request did (its launch as it is now) and launches nothing more; the same key with another body is a 422.',
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'Any printable ASCII, up to 200 characters: a UUID per request is usual.' })) }),
      body: TestSendCreate,
      response: { 200: TestSendResult, ...errorResponses }
    }
  }, async (request) => await app.resources.testSends.run(tenantOf(request), request.body, 'the API (tenant key)', request.headers['idempotency-key']))
}

export default testSendRoutes
