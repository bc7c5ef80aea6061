import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

// Each variable carries `expected`: the words used when its value is wrong, so the
// operator reads what to write instead of a JSON-schema path.
function variable<T extends TSchema> (schema: T, expected: string): T {
  return { ...schema, expected }
}

export const EnvSchema = Type.Object({
  PORT: variable(Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port the HTTP server listens on.' }),
    'a TCP port number from 0 to 65535'),
  HOST: variable(Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address the HTTP server binds to.' }),
    'an IP address or host name to bind to'),
  DATABASE_URL: variable(Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL connection URL. Unset: the embedded PGlite database in MAILRUN_DATA_DIR.' })),
    'a URL starting with postgres:// or postgresql://'),
  MAILRUN_DATA_DIR: variable(Type.String({ minLength: 1, default: './data', description: 'Directory for the embedded database and generated keys.' }),
    'a directory path'),
  LOG_LEVEL: variable(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'pino log level.' }),
    'one of fatal, error, warn, info, debug, trace, silent'),
  MAILRUN_SHUTDOWN_TIMEOUT_MS: variable(Type.Integer({ minimum: 100, maximum: 600000, default: 10000, description: 'How long a graceful shutdown waits for in-flight requests before exiting.' }),
    'a number of milliseconds from 100 to 600000')
})

export type Env = Static<typeof EnvSchema>

export interface Config {
  port: number
  host: string
  databaseUrl: string | undefined
  dataDir: string
  logLevel: Env['LOG_LEVEL']
  shutdownTimeoutMs: number
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type EnvSource = Record<string, string | undefined>

// Strict on purpose: "80.5" or "10s" must be refused, not truncated to a number.
function convert (schema: TSchema, value: string): unknown {
  if (schema.type === 'integer' && /^-?\d+$/.test(value)) return Number(value)
  if (schema.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true'
  return value
}

export function loadConfig (source: EnvSource): Config {
  const known = Object.keys(EnvSchema.properties) as Array<keyof Env>
  const raw: Record<string, unknown> = {}
  for (const name of known) {
    const value = source[name]
    // An empty variable means "not set" (a common result of `FOO= cmd` or compose files).
    if (value !== undefined && value.trim() !== '') raw[name] = convert(EnvSchema.properties[name], value.trim())
  }
  const converted = Value.Default(EnvSchema, raw)
  const problems: string[] = []
  const seen = new Set<string>()
  for (const error of Value.Errors(EnvSchema, converted)) {
    const name = error.path.replace(/^\//, '').split('/')[0] ?? ''
    if (seen.has(name)) continue
    seen.add(name)
    const schema = EnvSchema.properties[name as keyof Env] as { expected?: string } | undefined
    const given = raw[name]
    problems.push(`${name}: expected ${schema?.expected ?? 'a valid value'}, got ${given === undefined ? 'nothing' : JSON.stringify(given)}`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const env = converted as Env
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.MAILRUN_DATA_DIR,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.MAILRUN_SHUTDOWN_TIMEOUT_MS
  }
}
