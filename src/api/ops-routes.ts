import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Metrics } from '../lib/metrics.js';
import type { DeadLetterLog } from '../pipeline/dead-letters.js';
import { parseRequest } from './http-errors.js';

export interface OpsRouteOptions {
  metrics: Metrics;
  deadLetters: DeadLetterLog;
  /** Each named check must be true for /readyz to answer 200. */
  readiness: () => Promise<Record<string, boolean>>;
}

const DEAD_LETTER_QUERY = z.strictObject({
  tenant: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before_id: z.coerce.number().int().min(1).optional(),
});

/** /healthz, /readyz, /metrics and GET /api/v1/dead-letters. */
export async function opsRoutes(app: FastifyInstance, opts: OpsRouteOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks = await opts.readiness();
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(body);
  });

  app.get('/api/v1/dead-letters', async (req) => {
    const q = parseRequest(DEAD_LETTER_QUERY, req.query, 'query');
    const entries = opts.deadLetters.list({ tenant: q.tenant, limit: q.limit, beforeId: q.before_id });
    return { dead_letters: entries, capacity: opts.deadLetters.capacity, held: opts.deadLetters.size };
  });
}
