import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // Senders who look after a robot: STATUS shows them every launch of it, not only their own.
  `create table robot_operators (
    tenant_id uuid not null,
    robot_id uuid not null,
    sender_id uuid not null,
    primary key (robot_id, sender_id),
    foreign key (tenant_id, robot_id) references robots (tenant_id, id) on delete cascade,
    foreign key (tenant_id, sender_id) references senders (tenant_id, id) on delete cascade
  )`,
  'create index robot_operators_sender_idx on robot_operators (sender_id)'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists robot_operators').execute(db)
}
