import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RiskgateError } from '../lib/errors.js';
import type { TokenStore } from './token-store.js';

/** Paths that need no bearer token: probes, metrics, and the broker-auth endpoints (they have their own secret). */
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/metrics', '/api/v1/broker/'];

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7).trim();
  // Browsers cannot set headers on a WebSocket: the stream also takes ?access_token=.
  if ((req.routeOptions.url ?? req.url).startsWith('/api/v1/stream')) {
    const q = req.query as { access_token?: unknown } | undefined;
    if (typeof q?.access_token === 'string') return q.access_token;
  }
  return undefined;
}

/**
 * Resolves `Authorization: Bearer <token>` on every /api route into `req.principal`; unknown, revoked or expired
 * tokens are refused with 401 before any handler runs (deny by default).
 */
export function installAuthHook(app: FastifyInstance, tokens: TokenStore): void {
  app.addHook('onRequest', async (req) => {
    // The matched route's pattern, not the raw URL: the router decodes `/%61pi/v1/…` to `/api/v1/…`, which the raw
    // URL would have let past this hook without a token. The raw path only for requests that match no route.
    const path = req.routeOptions.url ?? req.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/') || PUBLIC_PREFIXES.some((p) => path.startsWith(p))) return;
    const token = bearer(req);
    if (!token) throw new RiskgateError('RG_ERR_AUTH_REQUIRED', 'send Authorization: Bearer <token>');
    const principal = tokens.authenticate(token);
    if (!principal) {
      req.log.warn({ path }, 'refused an unknown, revoked or expired token');
      throw new RiskgateError('RG_ERR_AUTH_REQUIRED', 'the token is unknown, revoked or expired');
    }
    req.principal = principal;
  });
}
