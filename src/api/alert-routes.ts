import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DISPOSITIONS, type Alert } from '../alerts/alert.js';
import { canSee, canSeeAlert, requireRole, type Principal } from '../auth/principal.js';
import type { DeviceRegistry } from '../registry/device-registry.js';
import type { AlertService } from '../alerts/alert-service.js';
import type { AlertStore } from '../alerts/alert-store.js';
import { KIND_NAMES } from '../kinds/kind.js';
import { parseDurationMs } from '../lib/duration.js';
import { RiskgateError } from '../lib/errors.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

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
// The actor of every action is the token's holder (principal.name), recorded in the audit trail.
const NOTE = z.string().trim().max(2000);
const ACK_BODY = z.strictObject({ note: NOTE.optional() });
const ASSIGN_BODY = z.strictObject({ assignee: z.string().trim().min(1).max(64), note: NOTE.optional() });
const COMMENT_BODY = z.strictObject({ note: NOTE.min(1) });
const CLOSE_BODY = z.strictObject({ disposition: z.enum(DISPOSITIONS.filter((d) => d !== 'auto_resolved') as [string, ...string[]]), note: NOTE.min(1, { message: 'closing needs a note (what was found, what was done)' }) });
const SILENCE_BODY = z
  .strictObject({
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

const toMs = (v: number | string): number => (typeof v === 'number' ? v : Date.parse(v));

/**
 * Alerts: list, detail with audit trail, and the operator actions of the closed loop (acknowledge, assign, comment,
 * close with a disposition); silences / maintenance windows.
 */
export async function alertRoutes(app: FastifyInstance, opts: { store: AlertStore; service: AlertService; registry: DeviceRegistry }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const HANDLERS = ['admin', 'operator', 'enterprise'] as const;
  /** The alert if the principal may see it; out-of-scope alerts answer 404 like missing ones (no existence leak). */
  const visibleAlert = (p: Principal, id: number): Alert => {
    const alert = opts.store.get(id);
    if (!alert || !canSeeAlert(p, alert)) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no alert ${id}`);
    return alert;
  };
  /** A silence is within a principal's scope when every device it can match is. */
  const silenceInScope = (p: Principal, s: { tenant?: string | null; device_id?: string | null }): boolean => {
    if (p.role === 'admin') return true;
    if (p.role === 'enterprise') return s.tenant === p.tenant;
    if (p.role !== 'operator') return false;
    if (s.device_id) {
      const matches = opts.registry.list({ tenant: s.tenant ?? undefined }).filter((d) => d.deviceId === s.device_id);
      return matches.length > 0 && matches.every((d) => canSee(p, { tenant: d.tenant, region: d.region, deviceId: d.deviceId }));
    }
    if (s.tenant) {
      const devices = opts.registry.list({ tenant: s.tenant });
      return devices.length > 0 && devices.every((d) => canSee(p, { tenant: d.tenant, region: d.region, deviceId: d.deviceId }));
    }
    return false;
  };

  r.get('/api/v1/alerts', { schema: { querystring: LIST_QUERY } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const q = req.query;
    const alerts = opts.store.query({
      scopeTenant: p.role === 'enterprise' ? p.tenant : undefined,
      scopeRegions: p.role === 'operator' ? (p.regions ?? []) : undefined,
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

  r.get('/api/v1/alerts/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const { id } = req.params;
    return { alert: visibleAlert(p, id), events: opts.store.eventsOf(id) };
  });

  r.post('/api/v1/alerts/:id/ack', { schema: { params: ID_PARAMS, body: ACK_BODY.optional() } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const { id } = req.params;
    visibleAlert(p, id);
    return { event: opts.service.acknowledge(id, p.name, req.body?.note ?? null) };
  });

  r.post('/api/v1/alerts/:id/assign', { schema: { params: ID_PARAMS, body: ASSIGN_BODY } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const { id } = req.params;
    const b = req.body;
    visibleAlert(p, id);
    return { event: opts.service.assign(id, p.name, b.assignee, b.note ?? null) };
  });

  r.post('/api/v1/alerts/:id/comment', { schema: { params: ID_PARAMS, body: COMMENT_BODY } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const { id } = req.params;
    const b = req.body;
    visibleAlert(p, id);
    return { event: opts.service.comment(id, p.name, b.note) };
  });

  r.post('/api/v1/alerts/:id/close', { schema: { params: ID_PARAMS, body: CLOSE_BODY } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const { id } = req.params;
    const b = req.body;
    visibleAlert(p, id);
    return { event: opts.service.close(id, p.name, b.disposition as (typeof DISPOSITIONS)[number], b.note) };
  });

  r.get('/api/v1/silences', { schema: { querystring: z.strictObject({ all: z.enum(['true', 'false']).optional() }) } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const q = req.query;
    const list = q.all === 'true' ? opts.store.silences({ all: true }) : opts.store.silences({ activeAt: Date.now() });
    return { silences: list.filter((s) => silenceInScope(p, s)) };
  });

  r.post('/api/v1/silences', { schema: { body: SILENCE_BODY } }, async (req, reply) => {
    const p = requireRole(req, HANDLERS);
    const b = req.body;
    if (p.role === 'enterprise') b.tenant ??= p.tenant;
    if (!silenceInScope(p, b)) throw new RiskgateError('RG_ERR_AUTH_FORBIDDEN', 'the silence would cover devices outside the scope of this token (name a tenant or device within it)');
    const startsAt = b.starts_at === undefined ? Date.now() : toMs(b.starts_at);
    const endsAt = b.ends_at !== undefined ? toMs(b.ends_at) : startsAt + (parseDurationMs(b.duration as string) as number);
    if (!(endsAt > startsAt)) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', 'body.ends_at: must be after starts_at');
    if (endsAt - startsAt > MAX_SILENCE_MS) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', 'body.ends_at: a silence lasts at most 7 days');
    const silence = opts.service.createSilence({ tenant: b.tenant, device_id: b.device_id, site: b.site, rule_id: b.rule_id, starts_at: startsAt, ends_at: endsAt, reason: b.reason, actor: p.name });
    return reply.status(201).send({ silence });
  });

  r.delete('/api/v1/silences/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const p = requireRole(req, HANDLERS);
    const { id } = req.params;
    const existing = opts.store.silences({ all: true, limit: 100_000 }).find((s) => s.id === id);
    if (!existing || !silenceInScope(p, existing)) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no silence ${id}`);
    return { silence: opts.service.cancelSilence(id, p.name) };
  });
}
