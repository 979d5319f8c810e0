import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AlertStore } from '../alerts/alert-store.js';
import { KIND_NAMES } from '../kinds/kind.js';
import { RiskgateError } from '../lib/errors.js';
import { parseRequest } from './http-errors.js';

const LIST_QUERY = z.strictObject({
  tenant: z.string().max(64).optional(),
  device_id: z.string().max(64).optional(),
  kind: z.enum(KIND_NAMES).optional(),
  level: z.coerce.number().int().min(1).max(4).optional(),
  condition: z.enum(['active', 'cleared']).optional(),
  handling: z.enum(['new', 'acknowledged', 'closed']).optional(),
  open: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before_id: z.coerce.number().int().min(1).optional(),
});
const ID_PARAMS = z.strictObject({ id: z.coerce.number().int().min(1) });

/** GET /api/v1/alerts (newest first, filters, paging by before_id) and GET /api/v1/alerts/:id (with its events). */
export async function alertRoutes(app: FastifyInstance, opts: { store: AlertStore }): Promise<void> {
  app.get('/api/v1/alerts', async (req) => {
    const q = parseRequest(LIST_QUERY, req.query, 'query');
    const alerts = opts.store.query({
      tenant: q.tenant,
      deviceId: q.device_id,
      kind: q.kind,
      level: q.level,
      condition: q.condition,
      handling: q.handling,
      open: q.open,
      limit: q.limit,
      beforeId: q.before_id,
    });
    const last = alerts[alerts.length - 1];
    return { alerts, next_before_id: alerts.length === q.limit && last ? last.id : null };
  });

  app.get('/api/v1/alerts/:id', async (req) => {
    const { id } = parseRequest(ID_PARAMS, req.params, 'params');
    const alert = opts.store.get(id);
    if (!alert) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no alert ${id}`);
    return { alert, events: opts.store.eventsOf(id) };
  });
}
