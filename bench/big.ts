import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { ServiceProcess } from './support/processes.js'

// Issue #13, item 7: three messages with a 25 MB attachment each, posted at once. Each must be
// stored within 5 s, peak RSS must stay under idle + 4 × the message size, and /healthz must keep
// answering within 250 ms throughout (a liveness probe would otherwise kill the process).

export interface BigReport {
  messages: number
  messageMb: number
  answersMs: number[]
  statuses: number[]
  healthzMaxMs: number
  healthzChecks: number
  idleRssMb: number
  peakRssMb: number
}

function bigMessage (attachmentBytes: number, tag: string): Buffer {
  const encoded = randomBytes(attachmentBytes).toString('base64').replace(/.{76}/g, '$&\r\n')
  return Buffer.from([
    'From: Anna Petrova <anna.petrova@finance.example>', 'To: robots@acme.example', 'Subject: Monthly Report', `Message-ID: <big-${tag}@finance.example>`,
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', '', 'period = 2026-11', '--b',
    'Content-Type: application/pdf; name="scan.pdf"', 'Content-Transfer-Encoding: base64', '', encoded, '--b--', ''
  ].join('\r\n'))
}

export async function benchBig (service: ServiceProcess, mimeUrl: string, options: { messages: number, attachmentBytes: number }): Promise<BigReport> {
  const messages = Array.from({ length: options.messages }, (_, i) => bigMessage(options.attachmentBytes, `${i}-${randomBytes(4).toString('hex')}`))
  const idleRssMb = service.rssMb()
  let peakRssMb = idleRssMb
  let healthzMaxMs = 0
  let healthzChecks = 0
  const state = { running: true }
  const rss = setInterval(() => { peakRssMb = Math.max(peakRssMb, service.rssMb()) }, 50)
  const probe = (async () => {
    while (state.running) {
      const t0 = performance.now()
      await fetch(`${service.url}/healthz`).then(async (r) => await r.text()).catch(() => '')
      healthzMaxMs = Math.max(healthzMaxMs, performance.now() - t0)
      healthzChecks++
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  const results = await Promise.all(messages.map(async (body) => {
    const t0 = performance.now()
    const res = await fetch(mimeUrl, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body })
    await res.text()
    return { status: res.status, ms: Math.round(performance.now() - t0) }
  }))
  state.running = false
  await probe
  clearInterval(rss)
  peakRssMb = Math.max(peakRssMb, service.rssMb())
  return {
    messages: messages.length,
    messageMb: Math.round((messages[0]?.length ?? 0) / 1e5) / 10,
    answersMs: results.map((r) => r.ms),
    statuses: results.map((r) => r.status),
    healthzMaxMs: Math.round(healthzMaxMs),
    healthzChecks,
    idleRssMb,
    peakRssMb
  }
}
