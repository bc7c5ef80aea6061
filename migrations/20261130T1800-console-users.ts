import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.

const statements = [
  // People who sign in to the web console. One account per address across the instance (sign-in
  // asks for the address only); a tenant's admins manage everything, viewers read.
  `create table users (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants(id) on delete cascade,
    email text not null,
    name text not null default '',
    role text not null check (role in ('admin', 'viewer')),
    password_hash text,
    locale text check (locale in ('en', 'ru')),
    disabled_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  'create unique index users_email_key on users (lower(email))',
  'create index users_tenant_idx on users (tenant_id, created_at)',
  // One-time links (set a password); only the hash of the token is kept.
  `create table user_tokens (
    token_hash text primary key,
    user_id uuid not null references users(id) on delete cascade,
    purpose text not null check (purpose in ('set_password')),
    expires_at timestamptz not null,
    created_at timestamptz not null default now()
  )`,
  // Console sessions: the cookie holds a random id, the row its hash.
  `create table console_sessions (
    id_hash text primary key,
    user_id uuid not null references users(id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    last_seen_at timestamptz not null default now()
  )`,
  'create index console_sessions_user_idx on console_sessions (user_id)'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw('drop table console_sessions').execute(db)
  await sql.raw('drop table user_tokens').execute(db)
  await sql.raw('drop table users').execute(db)
}
