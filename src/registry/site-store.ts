import { z } from 'zod';
import { RiskgateError } from '../lib/errors.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';
import { REGION_CODE } from './region-store.js';
import { REGISTRY_ID } from './tenant-store.js';

/** A place of a tenant where devices are installed (a restaurant, a workshop, a building). Key: (tenant, site). */
export interface Site {
  tenant: string;
  site: string;
  /** e.g. `春熙路店`, `一车间`. */
  name: string;
  /** GB/T 2260 code in prefix form. */
  region: string;
  address: string | null;
  /** WGS-84 degrees; null when unknown. */
  lat: number | null;
  lon: number | null;
  created_at: number;
  updated_at: number;
}

export const LAT = z.number().min(-90).max(90);
export const LON = z.number().min(-180).max(180);

const SITE_FIELDS = {
  name: z.string().trim().min(1).max(128),
  region: REGION_CODE,
  address: z.string().trim().max(256).nullable().optional(),
  lat: LAT.nullable().optional(),
  lon: LON.nullable().optional(),
};
const bothOrNeither = (s: { lat?: number | null; lon?: number | null }, ctx: z.RefinementCtx): void => {
  if ((s.lat == null) !== (s.lon == null)) ctx.addIssue({ code: 'custom', path: [s.lat == null ? 'lat' : 'lon'], message: 'give lat and lon together' });
};

/** POST: `region` defaults to the tenant's. */
export const SITE_INPUT_SCHEMA = z.strictObject({ tenant: REGISTRY_ID, site: REGISTRY_ID, ...SITE_FIELDS, region: REGION_CODE.optional() }).superRefine(bothOrNeither);
export const SITE_REPLACE_SCHEMA = z.strictObject(SITE_FIELDS).superRefine(bothOrNeither);
export const SITE_PATCH_SCHEMA = z.strictObject(SITE_FIELDS).partial().superRefine(bothOrNeither);
export type SiteInput = z.output<typeof SITE_INPUT_SCHEMA>;
export type SitePatch = z.output<typeof SITE_PATCH_SCHEMA>;

const MIGRATIONS = [
  `CREATE TABLE sites (
     tenant TEXT NOT NULL,
     site TEXT NOT NULL,
     name TEXT NOT NULL,
     region TEXT NOT NULL,
     address TEXT,
     lat REAL,
     lon REAL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (tenant, site)
   ) WITHOUT ROWID`,
  'CREATE INDEX sites_region ON sites (region)',
];

/** Sites, in SQLite (read on demand: off the hot path). */
export class SiteStore {
  private readonly db: SqliteDb;

  constructor(db: SqliteDb) {
    this.db = db;
  }

  start(): void {
    migrate(this.db, 'sites', MIGRATIONS);
  }

  get(tenant: string, site: string): Site | undefined {
    return this.db.prepare('SELECT * FROM sites WHERE tenant = ? AND site = ?').get(tenant, site) as Site | undefined;
  }

  /** Sites ordered by (tenant, site); `region` = a code whose subtree is listed. */
  list(filter: { tenant?: string; region?: string } = {}): Site[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(filter.tenant);
    }
    if (filter.region !== undefined) {
      where.push("region LIKE ? || '%'");
      params.push(filter.region);
    }
    return this.db.prepare(`SELECT * FROM sites ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY tenant, site`).all(...params) as Site[];
  }

  /** RG_ERR_CONFLICT when the tenant already has this site id. */
  create(input: SiteInput & { region: string }): Site {
    if (this.get(input.tenant, input.site)) throw new RiskgateError('RG_ERR_CONFLICT', `site ${input.tenant}/${input.site} already exists`);
    const now = Date.now();
    const s: Site = { tenant: input.tenant, site: input.site, name: input.name, region: input.region, address: input.address ?? null, lat: input.lat ?? null, lon: input.lon ?? null, created_at: now, updated_at: now };
    this.db
      .prepare('INSERT INTO sites (tenant, site, name, region, address, lat, lon, created_at, updated_at) VALUES (@tenant, @site, @name, @region, @address, @lat, @lon, @created_at, @updated_at)')
      .run(s);
    return s;
  }

  /** Applies a patch; undefined when the site does not exist. */
  update(tenant: string, site: string, patch: SitePatch): Site | undefined {
    const cur = this.get(tenant, site);
    if (!cur) return undefined;
    const next: Site = { ...cur, updated_at: Date.now() };
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    this.db.prepare('UPDATE sites SET name = @name, region = @region, address = @address, lat = @lat, lon = @lon, updated_at = @updated_at WHERE tenant = @tenant AND site = @site').run(next);
    return next;
  }

  delete(tenant: string, site: string): boolean {
    return this.db.prepare('DELETE FROM sites WHERE tenant = ? AND site = ?').run(tenant, site).changes > 0;
  }

  countOfTenant(tenant: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM sites WHERE tenant = ?').get(tenant) as { n: number }).n;
  }

  countInRegion(code: string): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM sites WHERE region LIKE ? || '%'").get(code) as { n: number }).n;
  }
}
