import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface RunningProcess {
  child: ChildProcessWithoutNullStreams
  output: () => string
  /** Resolves with the first output line matching `pattern`, or rejects after `ms`. */
  waitFor: (pattern: RegExp, ms?: number) => Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

// The variables a developer's shell may carry that would change what the child does.
export const inherited = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_OPTIONS']

/** Starts mailrun's server as `npm start` does (TypeScript through tsx instead of a build). */
export function startServer (env: Record<string, string>): RunningProcess {
  const base: Record<string, string> = {}
  for (const name of inherited) if (process.env[name] !== undefined) base[name] = process.env[name]
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/server.ts')], {
    cwd: repoRoot,
    env: { ...base, ...env }
  })
  let text = ''
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8')
    for (const listener of listeners) listener()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
  })
  const waitFor = async (pattern: RegExp, ms = 60000): Promise<RegExpMatchArray> => await new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = text.match(pattern)
      if (match === null) return false
      cleanup()
      resolve(match)
      return true
    }
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no output matching ${String(pattern)} within ${ms} ms; output so far:\n${text}`)) }, ms)
    const onExit = (): void => { if (!check()) { cleanup(); reject(new Error(`process exited before printing ${String(pattern)}; output:\n${text}`)) } }
    const cleanup = (): void => { clearTimeout(timer); listeners.delete(check); child.off('exit', onExit) }
    if (check()) return
    listeners.add(check)
    child.once('exit', onExit)
  })
  return { child, output: () => text, waitFor, exited }
}
