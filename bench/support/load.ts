import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DkimKey } from '../../tests/support/mail.js'
import type { Letter, MessageKind } from './messages.js'

export interface LoadJob {
  url: string
  kind: MessageKind
  letter: Letter
  key: DkimKey
  /** Fixed rate in messages per second; unset: saturation with `concurrency` in flight. */
  rate?: number
  durationS: number
  concurrency: number
  /** Saturation only: how many messages to prepare (a run that uses them all ends early). */
  maxMessages: number
  /** Saturation only: send the prepared messages over and over (for baselines, which do not deduplicate). */
  cycle?: boolean
  tag: string
}

export interface Percentiles { p50: number, p95: number, p99: number, max: number }

export interface LoadResult {
  completed: number
  throughput: number
  latencyMs: Percentiles
  statuses: Record<string, number>
  outcomes: Record<string, number>
  errors: number
  elapsedS: number
  /** Saturation ran out of prepared messages before the time was up. */
  exhausted: boolean
}

export function percentiles (values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
  const round = (n: number): number => Math.round(n * 10) / 10
  return { p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(at(1)) }
}

export function summarize (latencies: number[], rest: Omit<LoadResult, 'completed' | 'throughput' | 'latencyMs'>): LoadResult {
  return { completed: latencies.length, throughput: Math.round(latencies.length / rest.elapsedS * 10) / 10, latencyMs: percentiles(latencies), ...rest }
}

/** The load generator process: one per benchmark, reused for every step. */
export class LoadGenerator {
  private readonly child: ChildProcess
  constructor () {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../load-generator.ts')
    this.child = fork(file, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  }

  async run (job: LoadJob): Promise<LoadResult> {
    return await new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => { reject(new Error(`the load generator exited (${String(code)})`)) }
      this.child.once('exit', onExit)
      this.child.once('message', (answer: { ok: boolean, result?: LoadResult, error?: string }) => {
        this.child.off('exit', onExit)
        if (answer.ok && answer.result !== undefined) resolve(answer.result)
        else reject(new Error(`load generator: ${answer.error ?? 'no result'}`))
      })
      this.child.send(job)
    })
  }

  close (): void { this.child.kill() }
}
