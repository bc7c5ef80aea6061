import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../db/schema.js'
import type { CatalogueEntry } from './compose-reply.js'

/** The robots this sender may run, with what they take: what help and rejection replies list. */
export async function catalogueFor (db: Kysely<Database> | Transaction<Database>, tenantId: string, senderId: string): Promise<CatalogueEntry[]> {
  const rows = await db.selectFrom('robots').select(['name', 'description', 'parameters', 'functions'])
    .where('tenant_id', '=', tenantId)
    .where((eb) => eb.or([
      eb('allow_all_senders', '=', true),
      eb('id', 'in', eb.selectFrom('robot_senders').select('robot_id').where('sender_id', '=', senderId))
    ]))
    .orderBy('name').execute()
  return rows.map((r) => ({ name: r.name, description: r.description, parameters: r.parameters, functions: r.functions }))
}
