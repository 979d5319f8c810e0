import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, requireRole, requireScope, type Principal } from '../auth/principal.js';
import { KIND_NAMES } from '../kinds/kind.js';
import { RiskgateError } from '../lib/errors.js';
import type { Device } from '../registry/device-registry.js';
import { readCsvRows, readJsonRows, planImport } from '../registry/device-import.js';
import {
  DEVICE_CREATE_SCHEMA,
  DEVICE_PATCH_SCHEMA,
  DEVICE_REPLACE_SCHEMA,
  applyDevicePatch,
  deviceFromCreate,
  deviceJson,
  deviceResolver,
  type FieldProblem,
} from '../registry/device-input.js';
import { REGION_CODE } from '../registry/region-store.js';
import { REGISTRY_ID } from '../registry/tenant-store.js';
import { parseRequest } from './http-errors.js';
import { PAGE, READERS, TENANT_WRITERS, audit, badField, page, visibleOr404 } from './registry-access.js';
import type { RegistryRoutesOptions } from './registry-routes.js';

/** Largest import body, bytes (10 000 CSV rows of ≈ 200 bytes with room to spare). */
export const IMPORT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

const DEVICE_PARAMS = z.strictObject({ tenant: REGISTRY_ID, device_id: REGISTRY_ID });
const DEVICE_LIST = z.strictObject({ tenant: REGISTRY_ID.optional(), kind: z.enum(KIND_NAMES).optional(), region: REGION_CODE.optional(), site: REGISTRY_ID.optional(), ...PAGE });
const IMPORT_QUERY = z.strictObject({
  on_conflict: z.enum(['reject', 'update']).default('reject'),
  dry_run: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
});

const deviceScope = (d: Device) => ({ tenant: d.tenant, region: d.region ?? null, deviceId: d.deviceId });
const byKey = (a: Device, b: Device): number => (a.tenant === b.tenant ? (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0) : a.tenant < b.tenant ? -1 : 1);

/** Devices: CRUD and bulk import (CSV or JSON). Registered by registryRoutes. */
export async function deviceRoutes(app: FastifyInstance, opts: RegistryRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { registry } = opts;
  // Bytes, decoded by the import route: Excel on a Chinese Windows saves CSV as GBK, not UTF-8.
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));

  /** Reference checks of a device about to be written; the first problem is thrown as a 400 naming the field. */
  const resolveOrThrow = (d: Device): Device => {
    const { device, problems } = deviceResolver(opts)(d);
    const first = problems[0];
    if (first) throw badField(`body.${first.field}`, first.message);
    return device;
  };

  r.get('/api/v1/devices', { schema: { querystring: DEVICE_LIST } }, async (req) => {
    const p = requireRole(req, READERS);
    const q = req.query;
    const visible = registry.list({ tenant: q.tenant, kind: q.kind, region: q.region, site: q.site }).filter((d) => canSee(p, deviceScope(d)));
    const { items, ...rest } = page(visible.sort(byKey), q);
    return { devices: items.map(deviceJson), ...rest };
  });

  r.get('/api/v1/devices/:tenant/:device_id', { schema: { params: DEVICE_PARAMS } }, async (req) => {
    const p = requireRole(req, READERS);
    const { tenant, device_id } = req.params;
    return { device: deviceJson(visibleOr404(p, registry.get(tenant, device_id), deviceScope, `device ${tenant}/${device_id}`)) };
  });

  r.post('/api/v1/devices', { schema: { body: DEVICE_CREATE_SCHEMA } }, async (req, reply) => {
    const p = requireRole(req, TENANT_WRITERS);
    const b = req.body;
    requireScope(p, { tenant: b.tenant }, `tenant ${b.tenant}`);
    const device = registry.create(resolveOrThrow(deviceFromCreate(b)));
    audit(req, p, 'device.created', { tenant: device.tenant, device_id: device.deviceId, kind: device.kind, region: device.region });
    return reply.status(201).send({ device: deviceJson(device) });
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/v1/devices/:tenant/:device_id',
      // Validated by the type provider; the handler narrows the (method-dependent) types again.
      schema: { params: DEVICE_PARAMS, body: method === 'PUT' ? DEVICE_REPLACE_SCHEMA : DEVICE_PATCH_SCHEMA },
      handler: async (req) => {
        const p = requireRole(req, TENANT_WRITERS);
        const { tenant, device_id } = parseRequest(DEVICE_PARAMS, req.params, 'params');
        const cur = visibleOr404(p, registry.get(tenant, device_id), deviceScope, `device ${tenant}/${device_id}`);
        let next: Device;
        if (method === 'PUT') {
          const b = parseRequest(DEVICE_REPLACE_SCHEMA, req.body ?? {}, 'body');
          next = deviceFromCreate({ ...b, tenant, device_id });
        } else {
          next = applyDevicePatch(cur, parseRequest(DEVICE_PATCH_SCHEMA, req.body ?? {}, 'body'));
        }
        const device = registry.replace(resolveOrThrow(next)) as Device;
        audit(req, p, 'device.updated', { tenant, device_id, fields: Object.keys(req.body ?? {}) });
        return { device: deviceJson(device) };
      },
    });
  }

  r.delete('/api/v1/devices/:tenant/:device_id', { schema: { params: DEVICE_PARAMS } }, async (req) => {
    const p = requireRole(req, TENANT_WRITERS);
    const { tenant, device_id } = req.params;
    visibleOr404(p, registry.get(tenant, device_id), deviceScope, `device ${tenant}/${device_id}`);
    const device = registry.delete(tenant, device_id) as Device;
    opts.activity?.forget(tenant, device_id);
    audit(req, p, 'device.deleted', { tenant, device_id, kind: device.kind });
    return { device: deviceJson(device) };
  });

  r.post('/api/v1/devices/import', { bodyLimit: IMPORT_BODY_LIMIT_BYTES, schema: { querystring: IMPORT_QUERY } }, async (req) => {
    const p = requireRole(req, TENANT_WRITERS);
    const q = req.query;
    // text/csv arrives as bytes (see the parser above); text/plain as a string, taken as CSV too.
    const rows = Buffer.isBuffer(req.body) ? readCsvRows(decodeCsv(req)) : typeof req.body === 'string' ? readCsvRows(req.body) : readJsonRows(req.body);
    const resolve = deviceResolver(opts);
    const plan = planImport(rows, {
      defaultTenant: p.role === 'enterprise' ? p.tenant : undefined,
      check: (d) => {
        const problems: FieldProblem[] = [];
        if (!canSee(p, { tenant: d.tenant })) {
          problems.push({ field: 'tenant', message: `tenant ${d.tenant} is outside the scope of this token (it imports for tenant ${scopeName(p)} only)` });
          return { device: d, problems };
        }
        const r = resolve(d);
        const existing = registry.get(d.tenant, d.deviceId);
        if (existing && q.on_conflict === 'reject') r.problems.push({ field: 'device_id', message: `device ${d.tenant}/${d.deviceId} is already registered (on_conflict=update replaces it)` });
        return r;
      },
    });
    const updated = q.on_conflict === 'update' ? plan.valid.filter((d) => registry.get(d.tenant, d.deviceId)).length : 0;
    if (!q.dry_run && plan.valid.length > 0) registry.upsert(plan.valid); // one transaction
    const rejectedRows = new Set(plan.rejected.map((r) => r.row)).size;
    audit(req, p, q.dry_run ? 'devices.import_checked' : 'devices.imported', {
      rows: rows.length,
      imported: plan.valid.length,
      updated,
      rejected_rows: rejectedRows,
      devices: plan.valid.map((d) => `${d.tenant}/${d.deviceId}`),
    });
    return { imported: q.dry_run ? 0 : plan.valid.length, updated: q.dry_run ? 0 : updated, valid: plan.valid.length, rows: rows.length, rejected_rows: rejectedRows, dry_run: q.dry_run, rejected: plan.rejected };
  });
}

function scopeName(p: Principal): string {
  return p.tenant ?? '(none)';
}

/**
 * The CSV body as text: the `charset` of the content type when given; otherwise UTF-8 (a BOM is fine) when the bytes
 * are valid UTF-8, else GB 18030 (a superset of GBK, what Excel writes on a Chinese-language Windows).
 */
function decodeCsv(req: FastifyRequest): string {
  const body = req.body as Buffer;
  const charset = /charset\s*=\s*"?([\w.:-]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1];
  try {
    if (charset) return new TextDecoder(charset).decode(body);
  } catch {
    throw new RiskgateError('RG_ERR_API_BAD_REQUEST', `content-type charset ${charset} is not supported (use utf-8, gbk or gb18030)`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return new TextDecoder('gb18030').decode(body);
  }
}
