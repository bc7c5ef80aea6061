import { sql, type Kysely } from 'kysely'

// Frozen in time: never edit a migration that has shipped; add a new one.
// Statements run one by one because PGlite's extended protocol takes one statement per query.

const statements: string[] = [
  `create table tenants (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(name) between 1 and 200),
    max_mailboxes integer not null check (max_mailboxes >= 0),
    locale text not null default 'en' check (locale in ('en', 'ru')),
    contact_email text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  'create unique index tenants_name_key on tenants (lower(name))',

  `create table api_keys (
    id uuid primary key default gen_random_uuid(),
    scope text not null check (scope in ('admin', 'tenant')),
    tenant_id uuid references tenants (id) on delete cascade,
    name text not null default '',
    prefix text not null,
    key_hash text not null unique,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    check ((scope = 'admin') = (tenant_id is null))
  )`,
  'create index api_keys_tenant_idx on api_keys (tenant_id)',

  `create table orchestrator_connections (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null unique references tenants (id) on delete cascade,
    kind text not null check (kind in ('cloud', 'onprem')),
    url text not null,
    organization text,
    tenant_name text,
    auth_mode text not null check (auth_mode in ('client_credentials', 'password', 'refresh_token', 'token')),
    client_id text,
    scopes text,
    username text,
    secret_enc text,
    default_folder text,
    webhook_secret_enc text,
    supports_job_reference boolean,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,

  `create table mailboxes (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    address text not null,
    active boolean not null default true,
    sender_auth text not null default 'dmarc' check (sender_auth in ('dmarc', 'provider', 'off')),
    trusted_authserv_id text,
    ingress_token_hash text not null unique,
    mailgun_signing_key_enc text,
    sendgrid_username text,
    sendgrid_password_enc text,
    imap jsonb,
    imap_password_enc text,
    imap_configured_at timestamptz,
    imap_last_error text,
    imap_last_error_at timestamptz,
    imap_last_swept_at timestamptz,
    smtp jsonb,
    smtp_password_enc text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id)
  )`,
  'create unique index mailboxes_address_key on mailboxes (lower(address))',

  `create table senders (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    full_name text not null check (length(full_name) between 1 and 200),
    email text not null,
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id)
  )`,
  'create unique index senders_email_key on senders (tenant_id, lower(email))',

  `create table robots (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null check (length(name) between 1 and 200),
    name_key text not null,
    process_name text not null,
    folder text,
    launch_mode text not null default 'job' check (launch_mode in ('job', 'queue')),
    queue_name text,
    functions_argument text not null default 'in_Functions',
    allow_all_senders boolean not null default false,
    description text not null default '',
    parameters jsonb not null default '[]',
    functions jsonb not null default '[]',
    cached_folder_id bigint,
    cached_release_key text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    unique (tenant_id, name_key),
    check (launch_mode = 'job' or queue_name is not null)
  )`,

  // The composite keys make a robot's allow-list unable to name another tenant's sender.
  `create table robot_senders (
    tenant_id uuid not null,
    robot_id uuid not null,
    sender_id uuid not null,
    primary key (robot_id, sender_id),
    foreign key (tenant_id, robot_id) references robots (tenant_id, id) on delete cascade,
    foreign key (tenant_id, sender_id) references senders (tenant_id, id) on delete cascade
  )`,
  'create index robot_senders_sender_idx on robot_senders (sender_id)',

  `create table messages (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null,
    mailbox_id uuid not null,
    door text not null check (door in ('mime', 'mailgun', 'sendgrid', 'imap')),
    dedupe_key text not null,
    message_id_header text,
    from_address text,
    sender_id uuid references senders (id) on delete set null,
    robot_id uuid references robots (id) on delete set null,
    subject text,
    body text,
    raw bytea,
    raw_sha256 text not null,
    size_bytes integer not null check (size_bytes >= 0),
    auth_verdict jsonb,
    status text not null default 'received'
      check (status in ('received', 'accepted', 'rejected', 'ignored', 'failed')),
    reason text,
    imap_folder text,
    internal_date timestamptz,
    detection_latency_ms integer,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    foreign key (tenant_id, mailbox_id) references mailboxes (tenant_id, id) on delete cascade,
    unique (mailbox_id, dedupe_key)
  )`,
  'create index messages_tenant_received_idx on messages (tenant_id, received_at desc, id desc)',
  "create index messages_unprocessed_idx on messages (received_at) where status = 'received'",

  `create table launches (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    message_id uuid not null unique references messages (id) on delete cascade,
    robot_id uuid references robots (id) on delete set null,
    sender_id uuid references senders (id) on delete set null,
    plan jsonb not null,
    input_arguments jsonb,
    state text not null default 'pending'
      check (state in ('pending', 'launching', 'launched', 'completed', 'faulted', 'stopped', 'failed')),
    attempts integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz,
    locked_until timestamptz,
    last_error text,
    error_code text,
    trace_id text,
    job_id bigint,
    job_key text,
    job_info text,
    output_arguments jsonb,
    launched_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  'create index launches_tenant_created_idx on launches (tenant_id, created_at desc, id desc)',
  "create index launches_due_idx on launches (next_attempt_at) where state in ('pending', 'launching')",
  "create index launches_running_idx on launches (updated_at) where state = 'launched'",

  `create table launch_events (
    id bigint generated always as identity primary key,
    launch_id uuid not null references launches (id) on delete cascade,
    at timestamptz not null default now(),
    state text not null,
    detail text
  )`,
  'create index launch_events_launch_idx on launch_events (launch_id, id)',

  `create table notifications (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    mailbox_id uuid references mailboxes (id) on delete cascade,
    message_id uuid references messages (id) on delete cascade,
    launch_id uuid references launches (id) on delete cascade,
    kind text not null,
    recipient text not null,
    subject text not null,
    text_body text not null,
    html_body text,
    headers jsonb not null default '{}',
    state text not null default 'pending' check (state in ('pending', 'sent', 'failed', 'suppressed')),
    attempts integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null default now(),
    last_error text,
    sent_at timestamptz,
    created_at timestamptz not null default now()
  )`,
  "create index notifications_due_idx on notifications (next_attempt_at) where state = 'pending'",
  'create index notifications_recipient_idx on notifications (lower(recipient), created_at)',

  `create table imap_cursors (
    mailbox_id uuid not null references mailboxes (id) on delete cascade,
    folder text not null,
    uidvalidity bigint not null,
    last_uid bigint not null default 0 check (last_uid >= 0),
    last_swept_at timestamptz,
    primary key (mailbox_id, folder)
  )`,

  // Mailgun signs (timestamp, token) only: a token seen once must not authenticate a second delivery.
  `create table mailgun_tokens (
    token text primary key,
    expires_at timestamptz not null
  )`,
  'create index mailgun_tokens_expiry_idx on mailgun_tokens (expires_at)'
]

const tables = [
  'mailgun_tokens', 'imap_cursors', 'notifications', 'launch_events', 'launches', 'messages',
  'robot_senders', 'robots', 'senders', 'mailboxes', 'orchestrator_connections', 'api_keys', 'tenants'
]

export async function up (db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const table of tables) await sql.raw(`drop table if exists ${table} cascade`).execute(db)
}
