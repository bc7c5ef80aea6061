import { spawn } from 'node:child_process'
import path from 'node:path'
import { inherited, repoRoot } from './process.js'

export interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs `mailrun <args>` as an operator would (bin/mailrun.js), with exactly this environment. */
export async function runCli (args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  const base: Record<string, string> = {}
  for (const name of inherited) if (process.env[name] !== undefined) base[name] = process.env[name]
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/mailrun.js'), ...args], { cwd: repoRoot, env: { ...base, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => { resolve(c) }))
  clearTimeout(timer)
  return { code, stdout, stderr }
}
