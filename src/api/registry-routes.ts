import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, requireRole, requireScope } from '../auth/principal.js';
import { RiskgateError } from '../lib/errors.js';
import type { DeviceActivity } from '../registry/device-activity.js';
import type { DeviceRegistry } from '../registry/device-registry.js';
import { REGION_CODE, REGION_INPUT_SCHEMA, REGION_PATCH_SCHEMA, type RegionStore } from '../registry/region-store.js';
import { SITE_INPUT_SCHEMA, SITE_PATCH_SCHEMA, SITE_REPLACE_SCHEMA, type Site, type SiteStore } from '../registry/site-store.js';
import { REGISTRY_ID, TENANT_INPUT_SCHEMA, TENANT_PATCH_SCHEMA, TENANT_REPLACE_SCHEMA, type Tenant, type TenantStore } from '../registry/tenant-store.js';
import { deviceRoutes } from './device-routes.js';
import { parseRequest } from './http-errors.js';
import { ADMINS, PAGE, READERS, TENANT_WRITERS, audit, badField, page, visibleOr404 } from './registry-access.js';

/** What the registry routes work on. */
export interface RegistryRoutesOptions {
  registry: DeviceRegistry;
  tenants: TenantStore;
  regions: RegionStore;
  sites: SiteStore;
  /** When given, deleting a device also drops its activity (online / completeness counters). */
  activity?: DeviceActivity;
}

const TENANT_PARAMS = z.strictObject({ tenant: REGISTRY_ID });
const SITE_PARAMS = z.strictObject({ tenant: REGISTRY_ID, site: REGISTRY_ID });
const REGION_PARAMS = z.strictObject({ code: REGION_CODE });
const TENANT_LIST = z.strictObject({ region: REGION_CODE.optional(), ...PAGE });
const SITE_LIST = z.strictObject({ tenant: REGISTRY_ID.optional(), region: REGION_CODE.optional(), ...PAGE });
const REGION_LIST = z.strictObject({ under: REGION_CODE.optional(), parent: REGION_CODE.optional(), level: z.enum(['province', 'city', 'county']).optional() });

const tenantScope = (t: Tenant) => ({ tenant: t.tenant, region: t.region });
const siteScope = (s: Site) => ({ tenant: s.tenant, region: s.region });

/**
 * The registry over REST: tenants and regions (admin writes), sites and devices (admin, or an enterprise for its own
 * tenant), bulk device import. Reads: admin everything, operator its region subtrees, enterprise its tenant. A record
 * outside the caller's scope answers 404 as if it did not exist (docs/registry.md).
 */
export async function registryRoutes(app: FastifyInstance, opts: RegistryRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { tenants, regions, sites, registry } = opts;
  const assertRegion = (field: string, code: string): void => {
    if (!regions.has(code)) throw badField(field, `region ${code} is not in the region tree (POST /api/v1/regions first)`);
  };

  // ── tenants ────────────────────────────────────────────────────────────────────────────────────────────────────────
  r.get('/api/v1/tenants', { schema: { querystring: TENANT_LIST } }, async (req) => {
    const p = requireRole(req, READERS);
    const q = req.query;
    const { items, ...rest } = page(tenants.list({ region: q.region }).filter((t) => canSee(p, tenantScope(t))), q);
    return { tenants: items, ...rest };
  });

  r.get('/api/v1/tenants/:tenant', { schema: { params: TENANT_PARAMS } }, async (req) => {
    const p = requireRole(req, READERS);
    const { tenant } = req.params;
    return { tenant: visibleOr404(p, tenants.get(tenant), tenantScope, `tenant ${tenant}`) };
  });

  r.post('/api/v1/tenants', { schema: { body: TENANT_INPUT_SCHEMA } }, async (req, reply) => {
    const p = requireRole(req, ADMINS);
    const b = req.body;
    assertRegion('body.region', b.region);
    const t = tenants.create(b);
    audit(req, p, 'tenant.created', { tenant: t.tenant, uscc: t.uscc, region: t.region });
    return reply.status(201).send({ tenant: t });
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/v1/tenants/:tenant',
      // Validated by the type provider; the handler narrows the (method-dependent) types again.
      schema: { params: TENANT_PARAMS, body: method === 'PUT' ? TENANT_REPLACE_SCHEMA : TENANT_PATCH_SCHEMA },
      handler: async (req) => {
        const p = requireRole(req, ADMINS);
        const { tenant } = parseRequest(TENANT_PARAMS, req.params, 'params');
        const b = parseRequest(method === 'PUT' ? TENANT_REPLACE_SCHEMA : TENANT_PATCH_SCHEMA, req.body ?? {}, 'body');
        if (b.region !== undefined) assertRegion('body.region', b.region);
        // PUT replaces: optional fields left out are cleared.
        const patch = method === 'PUT' ? { contact_name: null, contact_phone: null, contact_email: null, address: null, ...b } : b;
        const t = tenants.update(tenant, patch);
        if (!t) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no tenant ${tenant}`);
        audit(req, p, 'tenant.updated', { tenant, fields: Object.keys(b) });
        return { tenant: t };
      },
    });
  }

  r.delete('/api/v1/tenants/:tenant', { schema: { params: TENANT_PARAMS } }, async (req) => {
    const p = requireRole(req, ADMINS);
    const { tenant } = req.params;
    const t = tenants.get(tenant);
    if (!t) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no tenant ${tenant}`);
    const devices = registry.list({ tenant }).length;
    const siteCount = sites.countOfTenant(tenant);
    if (devices + siteCount > 0) throw new RiskgateError('RG_ERR_CONFLICT', `tenant ${tenant} still has ${devices} devices and ${siteCount} sites; delete them first`);
    tenants.delete(tenant);
    audit(req, p, 'tenant.deleted', { tenant, uscc: t.uscc });
    return { tenant: t };
  });

  // ── regions: reference data, readable by every reader ──────────────────────────────────────────────────────────────
  r.get('/api/v1/regions', { schema: { querystring: REGION_LIST } }, async (req) => {
    requireRole(req, READERS);
    const q = req.query;
    return { regions: regions.list(q) };
  });

  r.get('/api/v1/regions/:code', { schema: { params: REGION_PARAMS } }, async (req) => {
    requireRole(req, READERS);
    const { code } = req.params;
    const region = regions.get(code);
    if (!region) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no region ${code}`);
    return { region, path: regions.path(code), children: regions.list({ parent: code }) };
  });

  r.post('/api/v1/regions', { schema: { body: REGION_INPUT_SCHEMA } }, async (req, reply) => {
    const p = requireRole(req, ADMINS);
    const b = req.body;
    const region = regions.create(b);
    audit(req, p, 'region.created', { code: region.code, name: region.name });
    return reply.status(201).send({ region });
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/v1/regions/:code',
      // Validated by the type provider; the handler narrows the (method-dependent) types again.
      schema: { params: REGION_PARAMS, body: REGION_PATCH_SCHEMA },
      handler: async (req) => {
        const p = requireRole(req, ADMINS);
        const { code } = parseRequest(REGION_PARAMS, req.params, 'params');
        const b = parseRequest(REGION_PATCH_SCHEMA, req.body ?? {}, 'body');
        const region = regions.rename(code, b.name);
        if (!region) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no region ${code}`);
        audit(req, p, 'region.updated', { code, name: b.name });
        return { region };
      },
    });
  }

  r.delete('/api/v1/regions/:code', { schema: { params: REGION_PARAMS } }, async (req) => {
    const p = requireRole(req, ADMINS);
    const { code } = req.params;
    const region = regions.get(code);
    if (!region) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no region ${code}`);
    const used = { tenants: tenants.countInRegion(code), sites: sites.countInRegion(code), devices: registry.list({ region: code }).length };
    if (used.tenants + used.sites + used.devices > 0) throw new RiskgateError('RG_ERR_CONFLICT', `region ${code} is in use by ${used.tenants} tenants, ${used.sites} sites and ${used.devices} devices`, used);
    regions.delete(code);
    audit(req, p, 'region.deleted', { code, name: region.name });
    return { region };
  });

  // ── sites ──────────────────────────────────────────────────────────────────────────────────────────────────────────
  r.get('/api/v1/sites', { schema: { querystring: SITE_LIST } }, async (req) => {
    const p = requireRole(req, READERS);
    const q = req.query;
    const { items, ...rest } = page(sites.list({ tenant: q.tenant, region: q.region }).filter((s) => canSee(p, siteScope(s))), q);
    return { sites: items, ...rest };
  });

  r.get('/api/v1/sites/:tenant/:site', { schema: { params: SITE_PARAMS } }, async (req) => {
    const p = requireRole(req, READERS);
    const { tenant, site } = req.params;
    return { site: visibleOr404(p, sites.get(tenant, site), siteScope, `site ${tenant}/${site}`) };
  });

  r.post('/api/v1/sites', { schema: { body: SITE_INPUT_SCHEMA } }, async (req, reply) => {
    const p = requireRole(req, TENANT_WRITERS);
    const b = req.body;
    requireScope(p, { tenant: b.tenant }, `tenant ${b.tenant}`);
    const t = tenants.get(b.tenant);
    if (!t) throw badField('body.tenant', `tenant ${b.tenant} is not registered`);
    const region = b.region ?? t.region;
    assertRegion('body.region', region);
    const s = sites.create({ ...b, region });
    audit(req, p, 'site.created', { tenant: s.tenant, site: s.site, region: s.region });
    return reply.status(201).send({ site: s });
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/v1/sites/:tenant/:site',
      // Validated by the type provider; the handler narrows the (method-dependent) types again.
      schema: { params: SITE_PARAMS, body: method === 'PUT' ? SITE_REPLACE_SCHEMA : SITE_PATCH_SCHEMA },
      handler: async (req) => {
        const p = requireRole(req, TENANT_WRITERS);
        const { tenant, site } = parseRequest(SITE_PARAMS, req.params, 'params');
        visibleOr404(p, sites.get(tenant, site), siteScope, `site ${tenant}/${site}`);
        const b = parseRequest(method === 'PUT' ? SITE_REPLACE_SCHEMA : SITE_PATCH_SCHEMA, req.body ?? {}, 'body');
        if (b.region !== undefined) assertRegion('body.region', b.region);
        const patch = method === 'PUT' ? { address: null, lat: null, lon: null, ...b } : b;
        const s = sites.update(tenant, site, patch) as Site;
        audit(req, p, 'site.updated', { tenant, site, fields: Object.keys(b) });
        return { site: s };
      },
    });
  }

  r.delete('/api/v1/sites/:tenant/:site', { schema: { params: SITE_PARAMS } }, async (req) => {
    const p = requireRole(req, TENANT_WRITERS);
    const { tenant, site } = req.params;
    const s = visibleOr404(p, sites.get(tenant, site), siteScope, `site ${tenant}/${site}`);
    const devices = registry.list({ tenant, site }).length;
    if (devices > 0) throw new RiskgateError('RG_ERR_CONFLICT', `site ${tenant}/${site} still has ${devices} devices; move or delete them first`);
    sites.delete(tenant, site);
    audit(req, p, 'site.deleted', { tenant, site });
    return { site: s };
  });

  await deviceRoutes(app, opts);
}
