import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { canSee, requireRole } from '../auth/principal.js';
import type { Metrics } from '../lib/metrics.js';
import type { DeviceRegistry } from '../registry/device-registry.js';
import type { DeadLetterLog } from '../pipeline/dead-letters.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

export interface OpsRouteOptions {
  metrics: Metrics;
  deadLetters: DeadLetterLog;
  /** Each named check must be true for /readyz to answer 200. */
  readiness: () => Promise<Record<string, boolean>>;
  /** To place a dead letter's device in a region for operator scope. */
  registry: DeviceRegistry;
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

  app.withTypeProvider<ZodTypeProvider>().get('/api/v1/dead-letters', { schema: { querystring: DEAD_LETTER_QUERY } }, async (req) => {
    const p = requireRole(req, ['admin', 'operator', 'enterprise']);
    const q = req.query;
    // An enterprise reads its own tenant's rejects; an operator those of registered devices in its regions; rejects
    // that name no registered device (bad topics, unknown devices) only an admin.
    const tenant = p.role === 'enterprise' ? p.tenant : q.tenant;
    const visible = (e: { tenant?: string; deviceId?: string }): boolean => {
      if (p.role === 'admin') return true;
      if (!e.tenant) return false;
      const d = e.deviceId ? opts.registry.get(e.tenant, e.deviceId) : undefined;
      return canSee(p, { tenant: e.tenant, region: d?.region, deviceId: e.deviceId });
    };
    const entries = opts.deadLetters.list({ tenant, limit: q.limit, beforeId: q.before_id, filter: visible });
    return { dead_letters: entries, capacity: opts.deadLetters.capacity, held: opts.deadLetters.size };
  });
}
