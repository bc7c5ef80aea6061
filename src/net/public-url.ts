// What is wrong with MAILRUN_PUBLIC_URL for the people and providers that must reach it: said at
// start-up, and next to the ingress URLs in the console.

export type PublicUrlProblem = 'local' | 'http'

export function publicUrlProblems (publicUrl: string): PublicUrlProblem[] {
  const url = new URL(publicUrl)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const local = host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0'
  return [...(local ? ['local' as const] : []), ...(url.protocol === 'http:' ? ['http' as const] : [])]
}

export const PUBLIC_URL_WARNINGS: Record<PublicUrlProblem, string> = {
  local: 'MAILRUN_PUBLIC_URL points at this machine: ingress URLs, set-password links and the Orchestrator webhook URL will not be reachable from mail providers or other machines. Set it to the https address mailrun is reached at.',
  http: 'MAILRUN_PUBLIC_URL is plain http: the ingress tokens in the ingress URLs travel unencrypted. Put mailrun behind https (Mailgun and SendGrid expect it) and set MAILRUN_PUBLIC_URL.'
}
