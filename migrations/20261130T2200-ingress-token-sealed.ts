import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // The ingress token is also kept sealed (AES-256-GCM, like every stored credential), so a tenant
  // admin can see the ingress URLs again without rotating them. The door still looks tokens up by
  // hash. Mailboxes created before this have only the hash until their token is rotated once.
  'alter table mailboxes add column ingress_token_enc text'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('alter table mailboxes drop column ingress_token_enc').execute(db)
}
