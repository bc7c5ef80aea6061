import pino, { type Logger, type LoggerOptions } from 'pino'

// Secrets are redacted by path wherever they may appear: request headers, admin API bodies,
// and the settings objects that later modules log. Values are replaced, keys are kept so an
// operator still sees that a secret was present.
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-uipath-signature"]',
  'headers.authorization',
  '*.password',
  '*.*.password',
  '*.clientSecret',
  '*.userKey',
  '*.accessToken',
  '*.refreshToken',
  '*.webhookSecret',
  '*.mailgunSigningKey',
  '*.ingressToken',
  '*.setPasswordUrl',
  '*.apiKey',
  '*.key',
  '*.secret',
  '*.privateKey',
  '*.serviceAccountKey',
  '*.*.clientSecret',
  '*.*.refreshToken',
  'password',
  'clientSecret',
  'accessToken',
  'apiKey'
]

/** The ingress token and a set-password token are credentials that travel in the path: never log them. */
export function redactUrl (url: string): string {
  return url.replace(/\/inbound\/[^/?#]+/g, '/inbound/[redacted]').replace(/\/set-password\/[^/?#]+/g, '/set-password/[redacted]')
}

// Fastify's request serializer, with the URL's credentials removed.
const serializers = {
  req (req: { method?: string, url?: string, host?: string, ip?: string, headers?: Record<string, unknown>, socket?: { remotePort?: number } }) {
    return {
      method: req.method,
      url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
      host: req.host,
      remoteAddress: req.ip,
      remotePort: req.socket?.remotePort
    }
  }
}

export function loggerOptions (level: string, pretty: boolean): LoggerOptions {
  return {
    level,
    serializers,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}

export function createLogger (level: string, pretty = Boolean(process.stdout.isTTY)): Logger {
  if (pretty) return pino(loggerOptions(level, pretty))
  // Written asynchronously: lines logged while a write is under way go out together in the next
  // one. Synchronous writes cost a system call per line, several per message under load
  // (measured by npm run bench); pino still flushes what is buffered when the process exits.
  return pino(loggerOptions(level, pretty), pino.destination({ dest: 1, sync: false }))
}
