import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { repoRoot } from '../../tests/support/process.js'

export interface ServiceProcess {
  child: ChildProcess
  url: string
  logFile: string
  /** Resident set size now, in MB (VmRSS). */
  rssMb: () => number
  /** CPU seconds (user + system) used so far. */
  cpuSeconds: () => number
  stop: () => Promise<void>
}

const TICKS_PER_SECOND = 100 // USER_HZ, 100 on Linux x86_64

export function rssMbOf (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? NaN : Math.round(Number(match[1]) / 1024)
}

export function cpuSecondsOf (pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/**
 * CPU seconds of the PostgreSQL server's processes alive now (its backends and workers), or null
 * where none is running here: what a step asked of the database, which shares the machine's cores
 * with mailrun and shows in mailrun's profile only as time spent in writev.
 */
export function postgresCpuSeconds (): number | null {
  let total = 0
  let found = false
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue
      total += cpuSecondsOf(Number(entry))
      found = true
    } catch {
      // Ended between the listing and the read.
    }
  }
  return found ? total : null
}

// Only what the service needs: the bench's own variables must not leak into what is measured.
const inherited = ['PATH', 'HOME', 'TMPDIR', 'LANG']

/** Starts `node <script>` (a compiled file) with `env`, output to `logFile`; resolves once `readyPath` answers 200. */
export async function startService (script: string, env: Record<string, string>, options: { port: number, logFile: string, readyPath: string, nodeArgs?: string[] }): Promise<ServiceProcess> {
  const base: Record<string, string> = {}
  for (const name of inherited) if (process.env[name] !== undefined) base[name] = process.env[name]
  const log = openSync(options.logFile, 'a')
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(repoRoot, script)], { cwd: repoRoot, env: { ...base, ...env }, stdio: ['ignore', log, log] })
  closeSync(log)
  const exited = new Promise<number | null>((resolve) => { child.once('exit', resolve) })
  const url = `http://127.0.0.1:${options.port}`
  const until = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}; see ${options.logFile}`)
    try {
      const res = await fetch(`${url}${options.readyPath}`)
      if (res.status === 200) break
    } catch {}
    if (Date.now() > until) { child.kill('SIGKILL'); throw new Error(`${script} was not ready within 120 s; see ${options.logFile}`) }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const pid = child.pid as number
  return {
    child,
    url,
    logFile: options.logFile,
    rssMb: () => rssMbOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 15_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Samples RSS every 250 ms while `work` runs; answers the work's result and the highest RSS seen. */
export async function withPeakRss<T> (service: ServiceProcess, work: () => Promise<T>): Promise<{ result: T, peakRssMb: number }> {
  let peak = service.rssMb()
  const timer = setInterval(() => { peak = Math.max(peak, service.rssMb()) }, 250)
  try {
    const result = await work()
    return { result, peakRssMb: Math.max(peak, service.rssMb()) }
  } finally {
    clearInterval(timer)
  }
}

/** RSS and CPU share of one core over `seconds` of doing nothing but what the service does alone. */
export async function idleSample (service: ServiceProcess, seconds: number): Promise<{ rssMb: number, cpuPercent: number }> {
  const cpu0 = service.cpuSeconds()
  const t0 = Date.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const cpu = service.cpuSeconds() - cpu0
  return { rssMb: service.rssMb(), cpuPercent: Math.round(cpu / ((Date.now() - t0) / 1000) * 1000) / 10 }
}

/**
 * Waits until the service uses less than `belowPercent` of a core over a second — the work an
 * earlier step left behind (job looks, replies) is done — or until `maxS` passed; answers the
 * seconds waited.
 */
export async function untilQuiet (service: ServiceProcess, options: { belowPercent: number, maxS: number }): Promise<number> {
  const t0 = Date.now()
  while (Date.now() - t0 < options.maxS * 1000) {
    if ((await idleSample(service, 1)).cpuPercent < options.belowPercent) break
  }
  return Math.round((Date.now() - t0) / 100) / 10
}
