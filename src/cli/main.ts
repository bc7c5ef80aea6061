import { parseArgs } from 'node:util'
import { CommandError } from './database.js'

const USAGE = `mailrun — launch UiPath Orchestrator robots by sending an email

usage: mailrun <command> [options]

  start                      run mailrun (the configuration comes from environment variables)
  migrate                    apply pending database migrations and say what was done
  doctor                     check the configuration, the database, the public URL, DNS, and each
                             tenant's Orchestrator connection, IMAP and SMTP; exit 1 with what to fix
  simulator [options]        an Orchestrator simulator and a mail catcher to try mailrun without either
      --port N                 the simulator's HTTP port (8900)
      --smtp-port N            the mail catcher's SMTP port (2525)
      --process NAME           a process it publishes (repeatable; MonthlyReport)
      --finish-after S         seconds until a started job succeeds (10)
      --platform NAME          also a stand-in for power-automate (port +1) or automation-anywhere
                               (port +2), with the connection and robot to give a tenant (repeatable)
  admin-key rotate           replace the stored instance-admin key with a new one, printed once
  backup <file>              write the embedded database to a .tar.gz file (mailrun stopped)
  restore <file> [--force]   replace the embedded database with a backup (--force: one exists)
  help                       this text

Configuration: docs/operating.md lists every variable with its default.
`

/** Runs one command; answers its exit status. */
export async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start': {
      const { start } = await import('./start.js')
      await start()
      return 0
    }
    case 'migrate': return await (await import('./migrate.js')).migrate()
    case 'doctor': return await (await import('./doctor.js')).doctor()
    case 'simulator': {
      const { values } = parseArgs({ args: rest, options: { port: { type: 'string' }, 'smtp-port': { type: 'string' }, process: { type: 'string', multiple: true }, 'finish-after': { type: 'string' }, platform: { type: 'string', multiple: true } } })
      const { simulator, simulatorArgs } = await import('./simulator.js')
      return await simulator(simulatorArgs(values))
    }
    case 'admin-key': {
      if (rest[0] !== 'rotate') throw new CommandError('usage: mailrun admin-key rotate')
      return await (await import('./admin-key.js')).rotateAdminKey()
    }
    case 'backup': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true })
      return await (await import('./backup.js')).backup(positionals[0])
    }
    case 'restore': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { force: { type: 'boolean' } } })
      return await (await import('./backup.js')).restore(positionals[0], values.force === true)
    }
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(USAGE)
      return 0
    default:
      throw new CommandError(`unknown command "${command}"; \`mailrun help\` lists them`)
  }
}

/** The program: a CommandError (or a bad option) is printed in one line; anything else is a bug and shows its stack. */
export async function run (argv: string[]): Promise<void> {
  try {
    const status = await main(argv)
    if (argv[0] !== 'start' && argv[0] !== 'simulator') process.exit(status)
    process.exitCode = status
  } catch (error) {
    const known = error instanceof CommandError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
    process.stderr.write(`mailrun ${argv[0] ?? ''}: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`)
    process.exit(known ? 1 : 70)
  }
}
