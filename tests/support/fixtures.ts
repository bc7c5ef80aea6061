import { createHash, randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../../src/db/schema.js'

// Rows inserted straight into the database, for tests of the database itself. Tests of the
// admin API create their data through HTTP instead.

export async function insertTenant (db: Kysely<Database>, name = `Tenant ${randomBytes(3).toString('hex')}`): Promise<string> {
  const row = await db.insertInto('tenants').values({ name, max_mailboxes: 5 }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function insertMailbox (db: Kysely<Database>, tenantId: string, address = `robots-${randomBytes(3).toString('hex')}@example.com`): Promise<string> {
  const row = await db.insertInto('mailboxes').values({
    tenant_id: tenantId,
    address,
    ingress_token_hash: createHash('sha256').update(randomBytes(16)).digest('hex')
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}
