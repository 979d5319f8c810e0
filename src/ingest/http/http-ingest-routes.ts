import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, requireRole } from '../../auth/principal.js';
import { RiskgateError } from '../../lib/errors.js';
import type { Metrics } from '../../lib/metrics.js';
import type { Pipeline, RejectSummary } from '../../pipeline/pipeline.js';
import type { Channel } from '../../pipeline/reading.js';
import type { DeviceRegistry } from '../../registry/device-registry.js';

const SEGMENT = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'must be 1–64 characters of A–Z a–z 0–9 _ . : -' });
const PARAMS = z.strictObject({ tenant: SEGMENT, kind: SEGMENT, deviceId: SEGMENT });
const QUERY = z.strictObject({ channel: z.enum(['telemetry', 'event', 'status']).default('telemetry') });
/** Largest batch of the batch form. */
export const MAX_HTTP_BATCH_ITEMS = 1000;

export interface HttpIngestOptions {
  pipeline: Pipeline;
  registry: DeviceRegistry;
  /** Counts batch items refused for scope in `riskgate_http_rejects_total` (whole requests are counted by the error handler). */
  metrics?: Metrics;
  /** While true (the store's spool is full) every ingest request is answered 503 with Retry-After, nothing taken. */
  isBackedUp?: () => boolean;
}

/**
 * HTTP webhook ingest for platforms that push (NB-IoT carrier platforms) and for devices without MQTT:
 * `POST /api/v1/ingest/{tenant}/{kind}/{deviceId}` with the MQTT payload as body, and `POST /api/v1/ingest` with
 * `{ "items": [{ "tenant", "kind", "device_id", "channel"?, "payload": {…} }] }`. Same validation, rejects and dead
 * letters as MQTT (source `http`). A device token may send for its own device; an enterprise token for its devices.
 */
export async function httpIngestRoutes(app: FastifyInstance, opts: HttpIngestOptions): Promise<void> {
  // The pipeline parses the JSON itself, so malformed bodies are counted and dead-lettered like MQTT ones.
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 4 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  const r = app.withTypeProvider<ZodTypeProvider>();
  app.addHook('preHandler', async (req, reply) => {
    if (!req.routeOptions.url?.startsWith('/api/v1/ingest') || !opts.isBackedUp?.()) return;
    void reply.header('retry-after', '5');
    throw new RiskgateError('RG_ERR_INGEST_BACKPRESSURE', 'the store is behind and the spool is full: nothing was taken, retry later');
  });

  const mayPush = (req: FastifyRequest, tenant: string, deviceId: string): void => {
    const p = requireRole(req, ['device', 'enterprise', 'admin']);
    const d = opts.registry.get(tenant, deviceId);
    if (p.role === 'admin') return;
    if (!canSee(p, { tenant, region: d?.region, deviceId })) throw new RiskgateError('RG_ERR_AUTH_FORBIDDEN', `this token may not send for ${tenant}/${deviceId}`);
  };

  r.post('/api/v1/ingest/:tenant/:kind/:deviceId', { schema: { params: PARAMS, querystring: QUERY } }, async (req, reply) => {
    const { tenant, kind, deviceId } = req.params;
    mayPush(req, tenant, deviceId);
    const body = req.body instanceof Buffer ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : '');
    const errors: RejectSummary[] = [];
    const out = opts.pipeline.ingestHttp(tenant, kind, deviceId, req.query.channel as Channel, body, errors);
    return reply.status(out.accepted > 0 || errors.length === 0 ? 202 : 400).send({ accepted: out.accepted, rejected: out.rejected, errors });
  });

  r.post('/api/v1/ingest', async (req, reply) => {
    requireRole(req, ['device', 'enterprise', 'admin']);
    let parsed: unknown;
    try {
      parsed = JSON.parse((req.body as Buffer).toString('utf8'));
    } catch (err) {
      throw new RiskgateError('RG_ERR_INGEST_MALFORMED_JSON', `body is not valid JSON: ${(err as Error).message}`);
    }
    const BATCH = z.strictObject({
      items: z
        .array(z.strictObject({ tenant: SEGMENT, kind: SEGMENT, device_id: SEGMENT, channel: z.enum(['telemetry', 'event', 'status']).default('telemetry'), payload: z.unknown() }))
        .min(1)
        .max(MAX_HTTP_BATCH_ITEMS),
    });
    const b = BATCH.safeParse(parsed);
    if (!b.success) {
      const details = b.error.issues.map((i) => ({ field: `body.${i.path.join('.')}`, rule: i.code, message: i.message }));
      throw new RiskgateError('RG_ERR_API_BAD_REQUEST', details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
    }
    // Every payload is serialised before any is ingested: JSON.stringify recurses, so a payload nested thousands deep
    // throws — which answered 500 after the items before it had already been ingested.
    const payloads = b.data.items.map((item, index) => {
      try {
        return Buffer.from(JSON.stringify(item.payload ?? null));
      } catch {
        throw new RiskgateError('RG_ERR_API_BAD_REQUEST', `body.items.${index}.payload: nested too deeply`, [{ field: `body.items.${index}.payload`, rule: 'too_deep', message: 'nested too deeply' }]);
      }
    });
    const results = b.data.items.map((item, index) => {
      try {
        mayPush(req, item.tenant, item.device_id);
      } catch (err) {
        // Counted and logged like a refused request: an out-of-scope item is an attempt on another tenant's device.
        opts.metrics?.httpRejects.inc({ code: 'RG_ERR_AUTH_FORBIDDEN' });
        req.log.warn({ index, device: `${item.tenant}/${item.device_id}`, token: req.principal?.tokenId }, 'ingest batch item refused: outside the token scope');
        return { index, accepted: 0, rejected: 1, errors: [{ reason: 'forbidden', code: 'RG_ERR_AUTH_FORBIDDEN', message: (err as Error).message }] };
      }
      const errors: RejectSummary[] = [];
      const out = opts.pipeline.ingestHttp(item.tenant, item.kind, item.device_id, item.channel, payloads[index] as Buffer, errors);
      return { index, accepted: out.accepted, rejected: out.rejected, errors };
    });
    const accepted = results.reduce((s, x) => s + x.accepted, 0);
    return reply.status(202).send({ accepted, rejected: results.reduce((s, x) => s + x.rejected, 0), items: results });
  });
}
