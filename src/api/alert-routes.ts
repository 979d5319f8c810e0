import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DISPOSITIONS } from '../alerts/alert.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { AlertStore } from '../alerts/alert-store.js';
import { KIND_NAMES } from '../kinds/kind.js';
import { parseDurationMs } from '../lib/duration.js';
import { RiskgateError } from '../lib/errors.js';
import { parseRequest } from './http-errors.js';

const LIST_QUERY = z.strictObject({
  tenant: z.string().max(64).optional(),
  device_id: z.string().max(64).optional(),
  kind: z.enum([...KIND_NAMES, 'gateway']).optional(),
  level: z.coerce.number().int().min(1).max(4).optional(),
  condition: z.enum(['active', 'cleared']).optional(),
  handling: z.enum(['new', 'acknowledged', 'closed']).optional(),
  open: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before_id: z.coerce.number().int().min(1).optional(),
});
const ID_PARAMS = z.strictObject({ id: z.coerce.number().int().min(1) });
// Until API tokens exist (issue 4) the acting operator names themself.
const ACTOR = z.string().trim().min(1).max(64);
const NOTE = z.string().trim().max(2000);
const ACK_BODY = z.strictObject({ actor: ACTOR, note: NOTE.optional() });
const ASSIGN_BODY = z.strictObject({ actor: ACTOR, assignee: z.string().trim().min(1).max(64), note: NOTE.optional() });
const COMMENT_BODY = z.strictObject({ actor: ACTOR, note: NOTE.min(1) });
const CLOSE_BODY = z.strictObject({ actor: ACTOR, disposition: z.enum(DISPOSITIONS.filter((d) => d !== 'auto_resolved') as [string, ...string[]]), note: NOTE.min(1, { message: 'closing needs a note (what was found, what was done)' }) });
const SILENCE_BODY = z
  .strictObject({
    actor: ACTOR,
    reason: z.string().trim().min(1).max(500),
    tenant: z.string().max(64).optional(),
    device_id: z.string().max(64).optional(),
    site: z.string().max(128).optional(),
    rule_id: z.string().max(64).optional(),
    starts_at: z.union([z.number().int(), z.iso.datetime({ offset: true })]).optional(),
    ends_at: z.union([z.number().int(), z.iso.datetime({ offset: true })]).optional(),
    duration: z.string().optional(),
  })
  .superRefine((b, ctx) => {
    if (!b.tenant && !b.device_id && !b.site && !b.rule_id) ctx.addIssue({ code: 'custom', path: ['tenant'], message: 'a silence needs a scope: tenant, device_id, site and/or rule_id' });
    if ((b.ends_at === undefined) === (b.duration === undefined)) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'give exactly one of ends_at or duration' });
    if (b.duration !== undefined && parseDurationMs(b.duration) === undefined) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'must be a duration such as 30m, 2h, 1d' });
  });
/** Longest silence, ms: a maintenance window is bounded (7 days). */
const MAX_SILENCE_MS = 7 * 86_400_000;
const CANCEL_BODY = z.strictObject({ actor: ACTOR });

const toMs = (v: number | string): number => (typeof v === 'number' ? v : Date.parse(v));

/**
 * Alerts: list, detail with audit trail, and the operator actions of the closed loop (acknowledge, assign, comment,
 * close with a disposition); silences / maintenance windows.
 */
export async function alertRoutes(app: FastifyInstance, opts: { store: AlertStore; service: AlertService }): Promise<void> {
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

  app.post('/api/v1/alerts/:id/ack', async (req) => {
    const { id } = parseRequest(ID_PARAMS, req.params, 'params');
    const b = parseRequest(ACK_BODY, req.body ?? {}, 'body');
    return { event: opts.service.acknowledge(id, b.actor, b.note ?? null) };
  });

  app.post('/api/v1/alerts/:id/assign', async (req) => {
    const { id } = parseRequest(ID_PARAMS, req.params, 'params');
    const b = parseRequest(ASSIGN_BODY, req.body ?? {}, 'body');
    return { event: opts.service.assign(id, b.actor, b.assignee, b.note ?? null) };
  });

  app.post('/api/v1/alerts/:id/comment', async (req) => {
    const { id } = parseRequest(ID_PARAMS, req.params, 'params');
    const b = parseRequest(COMMENT_BODY, req.body ?? {}, 'body');
    return { event: opts.service.comment(id, b.actor, b.note) };
  });

  app.post('/api/v1/alerts/:id/close', async (req) => {
    const { id } = parseRequest(ID_PARAMS, req.params, 'params');
    const b = parseRequest(CLOSE_BODY, req.body ?? {}, 'body');
    return { event: opts.service.close(id, b.actor, b.disposition as (typeof DISPOSITIONS)[number], b.note) };
  });

  app.get('/api/v1/silences', async (req) => {
    const q = parseRequest(z.strictObject({ all: z.enum(['true', 'false']).optional() }), req.query, 'query');
    return { silences: q.all === 'true' ? opts.store.silences({ all: true }) : opts.store.silences({ activeAt: Date.now() }) };
  });

  app.post('/api/v1/silences', async (req, reply) => {
    const b = parseRequest(SILENCE_BODY, req.body ?? {}, 'body');
    const startsAt = b.starts_at === undefined ? Date.now() : toMs(b.starts_at);
    const endsAt = b.ends_at !== undefined ? toMs(b.ends_at) : startsAt + (parseDurationMs(b.duration as string) as number);
    if (!(endsAt > startsAt)) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', 'body.ends_at: must be after starts_at');
    if (endsAt - startsAt > MAX_SILENCE_MS) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', 'body.ends_at: a silence lasts at most 7 days');
    const silence = opts.service.createSilence({ tenant: b.tenant, device_id: b.device_id, site: b.site, rule_id: b.rule_id, starts_at: startsAt, ends_at: endsAt, reason: b.reason, actor: b.actor });
    return reply.status(201).send({ silence });
  });

  app.delete('/api/v1/silences/:id', async (req) => {
    const { id } = parseRequest(ID_PARAMS, req.params, 'params');
    const b = parseRequest(CANCEL_BODY, req.body ?? {}, 'body');
    return { silence: opts.service.cancelSilence(id, b.actor) };
  });
}
