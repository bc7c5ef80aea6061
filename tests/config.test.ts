import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

function problemsOf (env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

t.test('with nothing set, mailrun runs on the embedded database on port 3000', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '0.0.0.0')
  t.equal(config.databaseUrl, undefined)
  t.equal(config.dataDir, './data')
  t.equal(config.logLevel, 'info')
})

t.test('values are read from the environment and converted', async (t) => {
  const config = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://u@db:5432/mailrun', MAILRUN_DATA_DIR: '/var/lib/mailrun', LOG_LEVEL: 'debug' })
  t.equal(config.port, 8080)
  t.equal(config.databaseUrl, 'postgres://u@db:5432/mailrun')
  t.equal(config.dataDir, '/var/lib/mailrun')
  t.equal(config.logLevel, 'debug')
})

t.test('an empty variable counts as unset', async (t) => {
  t.equal(loadConfig({ PORT: '', DATABASE_URL: '  ' }).databaseUrl, undefined)
})

const wrong: Array<[string, string, RegExp]> = [
  ['PORT', 'eighty', /^PORT: expected a TCP port number from 0 to 65535, got "eighty"$/],
  ['PORT', '70000', /^PORT: expected a TCP port number from 0 to 65535, got "70000"$/],
  ['PORT', '80.5', /^PORT: expected a TCP port number/],
  ['DATABASE_URL', 'mysql://localhost/x', /^DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\/, got "mysql:\/\/localhost\/x"$/],
  ['LOG_LEVEL', 'loud', /^LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"$/],
  ['MAILRUN_SHUTDOWN_TIMEOUT_MS', '5', /^MAILRUN_SHUTDOWN_TIMEOUT_MS: expected a number of milliseconds/]
]

for (const [name, value, expected] of wrong) {
  t.test(`${name}=${value} stops start-up with a message naming ${name}`, async (t) => {
    const problems = problemsOf({ [name]: value })
    t.equal(problems.length, 1)
    t.match(problems[0], expected)
  })
}

t.test('every wrong variable is reported at once, each on its own line', async (t) => {
  try {
    loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })
    t.fail('expected a ConfigError')
  } catch (error) {
    t.ok(error instanceof ConfigError)
    const message = (error as Error).message
    t.match(message, /\n {2}- PORT: /)
    t.match(message, /\n {2}- LOG_LEVEL: /)
    t.notMatch(message, /at .*\.ts:\d+/, 'no stack trace in the message')
  }
})
