import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import type { DkimKey } from '../tests/support/mail.js'
import { benchMessage, type Letter, type MessageKind } from './support/messages.js'
import { summarize, type LoadJob, type LoadResult } from './support/load.js'

// The load generator, in a process of its own (forked by bench/support/load.ts) so its CPU is
// not the server's. Messages are built and DKIM-signed before the clock starts.
//
// A fixed rate is open-loop: request i is due at start + i / rate whatever happened before it, and
// its latency counts from when it was due, so a server that stalls is charged for the requests
// that queued behind the stall (no coordinated omission). Saturation is closed-loop: `concurrency`
// requests always in flight.

async function prepare (job: LoadJob, count: number): Promise<Buffer[]> {
  const messages: Buffer[] = []
  for (let i = 0; i < count; i++) messages.push(await benchMessage(job.kind as MessageKind, job.letter as Letter, job.key as DkimKey, `${job.tag}-${i}`))
  return messages
}

async function run (job: LoadJob): Promise<LoadResult> {
  const count = job.rate !== undefined ? Math.ceil(job.rate * job.durationS) : job.maxMessages
  const messages = await prepare(job, count)
  const url = new URL(job.url)
  const pool = new Pool(url.origin, { connections: job.concurrency, pipelining: 1, keepAliveTimeout: 60_000 })
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  const outcomes: Record<string, number> = {}
  let errors = 0
  const send = async (body: Buffer, due: number): Promise<void> => {
    try {
      const res = await pool.request({ method: 'POST', path: url.pathname, headers: { 'content-type': 'message/rfc822' }, body })
      const answer = await res.body.text()
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
      let outcome = `http ${res.statusCode}`
      try {
        const parsed = JSON.parse(answer) as { status?: string, reason?: string, launch?: { state?: string } }
        // An unexpected answer keeps its reason, so a table that shows one also says why.
        outcome = parsed.status === 'accepted' ? `accepted ${parsed.launch?.state ?? ''}`.trim() : `${parsed.status ?? outcome}${parsed.reason !== undefined ? ` (${parsed.reason.slice(0, 240)})` : ''}`
      } catch {}
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
    } catch {
      errors++
    }
    latencies.push(performance.now() - due)
  }

  const start = performance.now()
  if (job.rate !== undefined) {
    const interval = 1000 / job.rate
    const inFlight: Array<Promise<void>> = []
    for (let i = 0; i < messages.length; i++) {
      const due = start + i * interval
      const wait = due - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      inFlight.push(send(messages[i] as Buffer, due))
    }
    await Promise.all(inFlight)
  } else {
    let next = 0
    const until = start + job.durationS * 1000
    const worker = async (): Promise<void> => {
      while (performance.now() < until && (job.cycle === true || next < messages.length)) {
        const body = messages[next++ % messages.length] as Buffer
        await send(body, performance.now())
      }
    }
    await Promise.all(Array.from({ length: job.concurrency }, worker))
  }
  const elapsedS = (performance.now() - start) / 1000
  await pool.close()
  return summarize(latencies, { elapsedS, statuses, outcomes, errors, exhausted: job.rate === undefined && job.cycle !== true && latencies.length >= messages.length })
}

process.on('message', (job: LoadJob) => {
  run(job).then((result) => { process.send?.({ ok: true, result }) }, (error: unknown) => { process.send?.({ ok: false, error: String(error) }) })
})
