import t from 'tap'
import { buildTestApp } from '../support/app.js'

// Every answer carries the headers that keep a browser from running, framing or sniffing what it
// should not (#28 item 10): the console's pages, the JSON API, the Graph validation echo.

t.test('pages, JSON and the Graph echo carry Content-Security-Policy, frame, sniffing and referrer headers', async (t) => {
  const { app } = await buildTestApp(t)
  const page = await app.inject({ url: '/console/sign-in' })
  t.equal(page.statusCode, 200)
  const csp = String(page.headers['content-security-policy'])
  t.match(csp, /default-src 'self'/)
  t.match(csp, /script-src 'self'(;|$)/, 'scripts from mailrun only, none inline')
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)
  t.match(csp, /frame-ancestors 'none'/)
  t.match(csp, /object-src 'none'/)
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  t.equal(page.headers['referrer-policy'], 'same-origin')
  t.notMatch(page.body, /<script>|<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=/i, 'the page itself has no inline script or event handler')

  const json = await app.inject({ url: '/api/v1/robots' })
  t.equal(json.statusCode, 401)
  t.equal(json.headers['x-content-type-options'], 'nosniff')
  t.match(String(json.headers['content-security-policy']), /frame-ancestors 'none'/)

  const echo = await app.inject({ method: 'POST', url: '/graph/lifecycle?validationToken=%3Cscript%3Ealert(1)%3C%2Fscript%3E', headers: { 'content-type': 'text/plain' } })
  t.equal(echo.statusCode, 200)
  t.match(echo.headers['content-type'], /^text\/plain/)
  t.equal(echo.headers['x-content-type-options'], 'nosniff', 'the echoed token is never sniffed as HTML')

  const docs = await app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
  const docsCsp = String(docs.headers['content-security-policy'])
  t.match(docsCsp, /script-src 'self'(;|$)/, 'Swagger UI under its own policy')
  t.match(docsCsp, /frame-ancestors 'none'/)
  t.notMatch(docsCsp, /upgrade-insecure-requests/, '/docs works on a plain-http address')
})
