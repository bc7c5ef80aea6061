import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import t from 'tap'
import { parse } from 'yaml'
import { renderOpenApi } from '../scripts/openapi-document.js'
import { repoRoot } from './support/process.js'

interface Operation {
  requestBody?: { content: Record<string, { example?: unknown, examples?: unknown }> }
  responses: Record<string, { content?: Record<string, { example?: unknown, examples?: unknown }> }>
}

t.test('openapi.yaml is what the route schemas generate (run npm run openapi after changing a route)', async (t) => {
  const committed = await readFile(path.join(repoRoot, 'openapi.yaml'), 'utf8')
  t.equal(committed, await renderOpenApi())
})

t.test('the document is valid OpenAPI 3.1', async (t) => {
  const document = parse(await renderOpenApi()) as { openapi: string }
  t.equal(document.openapi, '3.1.0')
  const result = await new Validator().validate(document)
  t.same(result.errors ?? [], [])
  t.ok(result.valid)
})

t.test('every admin operation shows a request example and a response example', async (t) => {
  const document = parse(await renderOpenApi()) as { paths: Record<string, Record<string, Operation>> }
  let operations = 0
  for (const [route, methods] of Object.entries(document.paths)) {
    if (!route.startsWith('/api/v1/')) continue
    for (const [method, operation] of Object.entries(methods)) {
      operations++
      const has = (media: { example?: unknown, examples?: unknown } | undefined): boolean => media?.example !== undefined || media?.examples !== undefined
      if (operation.requestBody !== undefined) t.ok(has(operation.requestBody.content['application/json']), `${method.toUpperCase()} ${route}: request example`)
      const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2') && status !== '204')
      if (success !== undefined) t.ok(has(success[1].content?.['application/json']), `${method.toUpperCase()} ${route}: response example`)
    }
  }
  t.ok(operations >= 25, `${operations} admin operations documented`)
})
