#!/usr/bin/env node
// mailrun-deliver <mime-url>: hands the message on standard input to a mailrun raw MIME door, for
// an MTA's pipe transport (Postfix, Exim). Node.js only, no dependencies: it runs wherever the MTA
// runs. The exit status tells the MTA what to do (sysexits.h): 0 stored (whatever mailrun decided),
// 75 try again later (mailrun down, restarting, overloaded, or the database away), and a permanent
// code only when retrying cannot help. One line on standard error says why: the MTA puts it in its
// log and in any bounce.

import http from 'node:http'
import https from 'node:https'

const EX = { OK: 0, USAGE: 64, DATAERR: 65, NOUSER: 67, CANTCREAT: 73, IOERR: 74, TEMPFAIL: 75, NOPERM: 77, CONFIG: 78 }

function finish (code, line) {
  process.stderr.write(`mailrun-deliver: ${line.replace(/[\r\n]+/g, ' ').slice(0, 400)}\n`)
  process.exitCode = code
}

function usage () {
  finish(EX.USAGE, 'usage: mailrun-deliver <mime-url> (the mailbox ingressUrls.mime), message on standard input; MAILRUN_DELIVER_TIMEOUT_S (default 120) bounds the wait')
}

async function readStdin () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function post (url, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http
    const request = transport.request(url, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'content-length': body.length, 'user-agent': 'mailrun-deliver' }
    }, (response) => {
      const chunks = []
      let size = 0
      response.on('data', (chunk) => { size += chunk.length; if (size < 64 * 1024) chunks.push(chunk) })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }) })
      response.on('error', reject)
    })
    request.setTimeout(timeoutMs, () => { request.destroy(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })) })
    request.on('error', reject)
    request.end(body)
  })
}

function parse (text) {
  try {
    const value = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value : {}
  } catch {
    return { message: text.trim().slice(0, 200) }
  }
}

/** The exit status and the line for an HTTP answer. */
function outcome (status, text, retryAfter) {
  const body = parse(text)
  if (status >= 200 && status < 300) {
    // The door's answer: {message: <id>, status, reason?}.
    return [EX.OK, `stored by mailrun as ${body.status ?? 'received'} (message ${body.message ?? '?'})${body.reason !== undefined ? `: ${body.reason}` : ''}`]
  }
  // An error body: {statusCode, code, message}.
  const what = typeof body.message === 'string' && body.message !== '' ? `: ${body.message}` : ''
  if (status === 404) return [EX.NOUSER, `mailrun does not know this ingress token (404)${what}; copy the mime URL from the mailbox`]
  if (status === 413) return [EX.CANTCREAT, `message too large for mailrun (413)${what}`]
  if (status === 408 || status === 429 || status >= 500) return [EX.TEMPFAIL, `mailrun answered ${status}${what}${retryAfter !== undefined ? `; retry after ${retryAfter} s` : ''}; the MTA will try again`]
  if (status === 401 || status === 403) return [EX.NOPERM, `mailrun refused the delivery (${status})${what}`]
  return [EX.DATAERR, `mailrun refused the message (${status})${what}`]
}

async function main () {
  const [target] = process.argv.slice(2)
  if (target === undefined || target === '' || target === '-h' || target === '--help') { usage(); return }
  let url
  try {
    url = new URL(target)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)')
  } catch {
    finish(EX.CONFIG, `not an http(s) URL: ${target}; give the mailbox ingressUrls.mime`)
    return
  }
  const timeoutS = Number(process.env.MAILRUN_DELIVER_TIMEOUT_S ?? 120)
  let body
  try {
    body = await readStdin()
  } catch (error) {
    finish(EX.TEMPFAIL, `could not read the message from standard input (${error.code ?? error.message})`)
    return
  }
  if (body.length === 0) { finish(EX.DATAERR, 'empty message on standard input'); return }
  try {
    const answer = await post(url, body, (Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : 120) * 1000)
    const retryAfter = answer.headers['retry-after']
    const [code, line] = outcome(answer.status, answer.text, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter)
    finish(code, line)
  } catch (error) {
    // Refused, reset, unreachable, timed out, a TLS failure: mailrun may be restarting. Defer.
    const why = error.code === 'ETIMEDOUT' ? error.message : (error.code ?? error.message)
    finish(EX.TEMPFAIL, `mailrun is not reachable at ${url.origin} (${why}); the MTA will try again`)
  }
}

await main()
