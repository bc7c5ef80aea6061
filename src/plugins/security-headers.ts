import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

// Headers that tell browsers what a page may do, on every answer (pages, JSON, the Graph validation
// echo): no script, style or frame from anywhere but mailrun itself, no inline script, never framed
// (clickjacking), no MIME sniffing (the Graph echo returns text a caller chose), no referrer to
// other sites. The console has no inline script or style; Swagger UI (/docs) sends its own policy
// with the hashes of its few inline parts (@fastify/swagger-ui staticCSP).
export default fp(async function securityHeaders (app: FastifyInstance) {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"]
      }
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    // Only an operator who serves mailrun over HTTPS end to end can promise HSTS: their proxy sets it.
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false
  })
}, { name: 'security-headers' })
