import { z } from 'zod';
import { KIND_NAMES } from '../kinds/kind.js';
import type { Device } from './device-registry.js';
import { REGION_CODE, type RegionStore } from './region-store.js';
import { LAT, LON, type SiteStore } from './site-store.js';
import { REGISTRY_ID, type TenantStore } from './tenant-store.js';

/** Default expected reporting interval when none is given, s. */
export const DEFAULT_HEARTBEAT_S = 60;

const ATTRS = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, { message: 'attribute names are snake_case' }), z.union([z.string().max(256), z.number(), z.boolean()]));
const INSTALLED_AT = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { message: 'must be a date (2024-05-01) or an ISO-8601 date-time with offset' });

/** The mutable fields of a device as the REST API and bulk import take them (snake_case). `null` clears on PATCH. */
const DEVICE_FIELDS = {
  kind: z.enum(KIND_NAMES),
  model: z.string().trim().max(128).nullable().optional(),
  /** Defaults to the site's region, else the tenant's. */
  region: REGION_CODE.nullable().optional(),
  /** A site id of the same tenant (POST /api/v1/sites). */
  site: REGISTRY_ID.nullable().optional(),
  location: z.string().trim().max(256).nullable().optional(),
  heartbeat_s: z.number().int().min(1).max(7 * 86_400),
  installed_at: INSTALLED_AT.nullable().optional(),
  installer: z.string().trim().max(128).nullable().optional(),
  lat: LAT.nullable().optional(),
  lon: LON.nullable().optional(),
  attrs: ATTRS,
};

const bothOrNeither = (s: { lat?: number | null; lon?: number | null }, ctx: z.RefinementCtx): void => {
  if ((s.lat == null) !== (s.lon == null)) ctx.addIssue({ code: 'custom', path: [s.lat == null ? 'lat' : 'lon'], message: 'give lat and lon together' });
};

/** POST /api/v1/devices and each import row. */
export const DEVICE_CREATE_SCHEMA = z
  .strictObject({ tenant: REGISTRY_ID, device_id: REGISTRY_ID, ...DEVICE_FIELDS, heartbeat_s: DEVICE_FIELDS.heartbeat_s.default(DEFAULT_HEARTBEAT_S), attrs: ATTRS.default({}) })
  .superRefine(bothOrNeither);
/** PUT /api/v1/devices/:tenant/:device_id: the whole record; what is left out is cleared. */
export const DEVICE_REPLACE_SCHEMA = z.strictObject({ ...DEVICE_FIELDS, heartbeat_s: DEVICE_FIELDS.heartbeat_s.default(DEFAULT_HEARTBEAT_S), attrs: ATTRS.default({}) }).superRefine(bothOrNeither);
/** PATCH: any subset; `null` clears an optional field. */
export const DEVICE_PATCH_SCHEMA = z.strictObject(DEVICE_FIELDS).partial();
export type DeviceCreate = z.output<typeof DEVICE_CREATE_SCHEMA>;
export type DevicePatch = z.output<typeof DEVICE_PATCH_SCHEMA>;

/** A device as the API sends it: snake_case, absent fields null. */
export interface DeviceJson {
  tenant: string;
  device_id: string;
  kind: string;
  model: string | null;
  region: string | null;
  site: string | null;
  location: string | null;
  heartbeat_s: number;
  installed_at: string | null;
  installer: string | null;
  lat: number | null;
  lon: number | null;
  attrs: Device['attrs'];
  created_at: number | null;
  updated_at: number | null;
}

export function deviceJson(d: Device): DeviceJson {
  return {
    tenant: d.tenant,
    device_id: d.deviceId,
    kind: d.kind,
    model: d.model ?? null,
    region: d.region ?? null,
    site: d.site ?? null,
    location: d.location ?? null,
    heartbeat_s: d.heartbeatS,
    installed_at: d.installedAt ?? null,
    installer: d.installer ?? null,
    lat: d.lat ?? null,
    lon: d.lon ?? null,
    attrs: d.attrs,
    created_at: d.createdAt ?? null,
    updated_at: d.updatedAt ?? null,
  };
}

/** A full create input → Device (the registry's camelCase view). */
export function deviceFromCreate(c: DeviceCreate): Device {
  return applyDevicePatch({ tenant: c.tenant, deviceId: c.device_id, kind: c.kind, heartbeatS: c.heartbeat_s, attrs: c.attrs }, c);
}

/** The device with the patch applied: `undefined` keeps a field, `null` clears it. */
export function applyDevicePatch(cur: Device, p: DevicePatch): Device {
  const next: Device = { ...cur };
  const opt = <T>(v: T | null | undefined, old: T | undefined): T | undefined => (v === undefined ? old : (v ?? undefined));
  if (p.kind !== undefined) next.kind = p.kind;
  if (p.heartbeat_s !== undefined) next.heartbeatS = p.heartbeat_s;
  if (p.attrs !== undefined) next.attrs = p.attrs;
  next.model = opt(p.model, cur.model);
  next.region = opt(p.region, cur.region);
  next.site = opt(p.site, cur.site);
  next.location = opt(p.location, cur.location);
  next.installedAt = opt(p.installed_at, cur.installedAt);
  next.installer = opt(p.installer, cur.installer);
  next.lat = opt(p.lat, cur.lat);
  next.lon = opt(p.lon, cur.lon);
  return next;
}

/** One problem of one device: the field (snake_case, as in the request) and what is wrong. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Where device references are checked: the tenant, region and site tables. */
export interface DeviceRefs {
  tenants: TenantStore;
  regions: RegionStore;
  sites: SiteStore;
}

/**
 * Checks what a schema cannot: the tenant is registered, the site belongs to it, the region is in the tree; and fills
 * the region from the site, else the tenant, so that every device is visible to the operators of its area. Lookups are
 * memoised per resolver (one bulk import).
 */
export function deviceResolver(refs: DeviceRefs): (d: Device) => { device: Device; problems: FieldProblem[] } {
  const memo = new Map<string, unknown>();
  const cached = <T>(k: string, f: () => T): T => {
    if (!memo.has(k)) memo.set(k, f());
    return memo.get(k) as T;
  };
  return (d) => {
    const problems: FieldProblem[] = [];
    const tenant = cached(`t:${d.tenant}`, () => refs.tenants.get(d.tenant));
    if (!tenant) problems.push({ field: 'tenant', message: `tenant ${d.tenant} is not registered (POST /api/v1/tenants first)` });
    let region = d.region;
    if (d.site !== undefined) {
      const site = cached(`s:${d.tenant}\u0000${d.site}`, () => refs.sites.get(d.tenant, d.site as string));
      if (!site) problems.push({ field: 'site', message: `site ${d.site} is not registered for tenant ${d.tenant} (POST /api/v1/sites first)` });
      region ??= site?.region;
    }
    region ??= tenant?.region;
    if (region !== undefined && !cached(`r:${region}`, () => refs.regions.has(region as string))) {
      problems.push({ field: 'region', message: `region ${region} is not in the region tree (POST /api/v1/regions first)` });
    }
    return { device: { ...d, region }, problems };
  };
}
