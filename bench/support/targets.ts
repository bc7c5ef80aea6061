import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'

export type DatabaseKind = 'pglite' | 'postgres'

export interface DatabaseTarget {
  kind: DatabaseKind
  /** What mailrun (or a baseline) needs in its environment to use this database. */
  env: Record<string, string>
  drop: () => Promise<void>
}

export const postgresAdminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A fresh, empty database of `kind`: a PGlite data directory or a new database on the local server. */
export async function freshDatabase (kind: DatabaseKind): Promise<DatabaseTarget> {
  if (kind === 'pglite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'mailrun-bench-pglite-'))
    return { kind, env: { MAILRUN_DATA_DIR: dir }, drop: async () => { await rm(dir, { recursive: true, force: true }) } }
  }
  const name = `mailrun_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: postgresAdminUrl })
  await admin.connect()
  try { await admin.query(`create database ${name}`) } finally { await admin.end() }
  const url = new URL(postgresAdminUrl)
  url.pathname = `/${name}`
  return {
    kind,
    env: { DATABASE_URL: url.toString(), MAILRUN_SECRET_KEY: randomBytes(32).toString('base64') },
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresAdminUrl })
      await client.connect()
      try { await client.query(`drop database if exists ${name} with (force)`) } finally { await client.end() }
    }
  }
}

export async function postgresVersion (): Promise<string> {
  const client = new pg.Client({ connectionString: postgresAdminUrl })
  await client.connect()
  try { return String((await client.query('show server_version')).rows[0]?.server_version) } finally { await client.end() }
}
