import type { OutboundAnswer } from '../net/outbound-request.js'

// A connection test of a platform signed into (Power Automate, Automation Anywhere): sign in, then
// one listing that shows the account may see what robots start, each step with its words; a
// failure stops there, named by the step it happened in. Nothing is started.

export interface ProbeStep { step: string, ok: boolean, detail: string }

export async function signInAndList (probe: {
  /** Signs in; answers the words of success. */
  signIn: () => Promise<string>
  listing: { step: string, list: () => Promise<OutboundAnswer>, ok: string, refused: (answer: OutboundAnswer) => string }
}): Promise<ProbeStep[]> {
  const steps: ProbeStep[] = []
  try {
    steps.push({ step: 'sign in', ok: true, detail: await probe.signIn() })
    const answer = await probe.listing.list()
    steps.push(answer.status >= 200 && answer.status < 300
      ? { step: probe.listing.step, ok: true, detail: probe.listing.ok }
      : { step: probe.listing.step, ok: false, detail: probe.listing.refused(answer) })
  } catch (error) {
    steps.push({ step: steps.length === 0 ? 'sign in' : probe.listing.step, ok: false, detail: error instanceof Error ? error.message : String(error) })
  }
  return steps
}
