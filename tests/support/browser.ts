import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Test } from 'tap'

// Debian's Chromium, driven by playwright-core: Playwright's own browser downloads cannot work
// here (no network but the npm registry), and the system browser is what .ci/run installs.

export const CHROMIUM = process.env.MAILRUN_CHROMIUM ?? '/usr/bin/chromium'

/** Skips (or, under CI=true, fails) a test that needs Chromium when it is not installed. */
export function needsChromium (t: Test): boolean {
  if (existsSync(CHROMIUM)) return true
  const message = `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (the console's browser tests drive a real browser)`
  if (process.env.CI === 'true') t.fail(message)
  else t.comment(`skipped: ${message}`)
  return false
}

export async function startBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  t.teardown(async () => { await browser.close() })
  return browser
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation { id: string, impact: string | null, help: string, nodes: Array<{ target: string[] }> }

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A and AA rules). */
export async function seriousViolations (page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
  // govern: a <script> tag with axe inline would be refused (no inline script may run there).
  await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }))
  })
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}
