import { z } from 'zod';
import { RiskgateError } from '../lib/errors.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';
import { REGION_CODE } from './region-store.js';
import { usccProblem } from './uscc.js';

/** Ids of tenants, sites and devices: they appear in MQTT topics and URLs. */
export const REGISTRY_ID = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'must be 1–64 characters of A–Z a–z 0–9 _ . : -' });

/** A supervised enterprise (联网单位). Stored and sent snake_case. */
export interface Tenant {
  tenant: string;
  /** Enterprise name, e.g. `成都某某燃气有限公司`. */
  name: string;
  /** 统一社会信用代码 (GB 32100-2015), upper case, check character verified; unique. */
  uscc: string;
  /** GB/T 2260 code in prefix form (`510104`): the region whose operators supervise it. */
  region: string;
  contact_name: string | null;
  contact_phone: string | null;
  contact_email: string | null;
  address: string | null;
  /** Epoch ms. */
  created_at: number;
  updated_at: number;
}

const USCC = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .superRefine((v, ctx) => {
    const problem = usccProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const optionalText = (max: number) => z.string().trim().max(max).nullable().optional();

const TENANT_FIELDS = {
  name: z.string().trim().min(1).max(128),
  uscc: USCC,
  region: REGION_CODE,
  contact_name: optionalText(64),
  contact_phone: z.string().trim().regex(/^[0-9+\-() ]{3,32}$/, { message: 'must be a phone number (digits, + - ( ) and spaces)' }).nullable().optional(),
  contact_email: z.email().max(128).nullable().optional(),
  address: optionalText(256),
};

export const TENANT_INPUT_SCHEMA = z.strictObject({ tenant: REGISTRY_ID, ...TENANT_FIELDS });
/** PUT: every mutable field (the id is in the URL). */
export const TENANT_REPLACE_SCHEMA = z.strictObject(TENANT_FIELDS);
/** PATCH: any subset; `null` clears an optional field. */
export const TENANT_PATCH_SCHEMA = z.strictObject(TENANT_FIELDS).partial();
export type TenantInput = z.output<typeof TENANT_INPUT_SCHEMA>;
export type TenantPatch = z.output<typeof TENANT_PATCH_SCHEMA>;

const MIGRATIONS = [
  `CREATE TABLE tenants (
     tenant TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     uscc TEXT NOT NULL UNIQUE,
     region TEXT NOT NULL,
     contact_name TEXT,
     contact_phone TEXT,
     contact_email TEXT,
     address TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID`,
  'CREATE INDEX tenants_region ON tenants (region)',
];

/** Enterprises, in SQLite (read on demand: off the hot path). */
export class TenantStore {
  private readonly db: SqliteDb;

  constructor(db: SqliteDb) {
    this.db = db;
  }

  start(): void {
    migrate(this.db, 'tenants', MIGRATIONS);
  }

  get(tenant: string): Tenant | undefined {
    return this.db.prepare('SELECT * FROM tenants WHERE tenant = ?').get(tenant) as Tenant | undefined;
  }

  /** Tenants ordered by id; `region` = a code whose subtree is listed. */
  list(filter: { region?: string } = {}): Tenant[] {
    if (filter.region === undefined) return this.db.prepare('SELECT * FROM tenants ORDER BY tenant').all() as Tenant[];
    return this.db.prepare("SELECT * FROM tenants WHERE region LIKE ? || '%' ORDER BY tenant").all(filter.region) as Tenant[];
  }

  /** RG_ERR_CONFLICT when the id or the USCC is taken. */
  create(input: TenantInput): Tenant {
    if (this.get(input.tenant)) throw new RiskgateError('RG_ERR_CONFLICT', `tenant ${input.tenant} already exists`);
    this.assertUsccFree(input.uscc, input.tenant);
    const now = Date.now();
    const t: Tenant = {
      tenant: input.tenant,
      name: input.name,
      uscc: input.uscc,
      region: input.region,
      contact_name: input.contact_name ?? null,
      contact_phone: input.contact_phone ?? null,
      contact_email: input.contact_email ?? null,
      address: input.address ?? null,
      created_at: now,
      updated_at: now,
    };
    this.db
      .prepare(
        `INSERT INTO tenants (tenant, name, uscc, region, contact_name, contact_phone, contact_email, address, created_at, updated_at)
         VALUES (@tenant, @name, @uscc, @region, @contact_name, @contact_phone, @contact_email, @address, @created_at, @updated_at)`,
      )
      .run(t);
    return t;
  }

  /** Applies a patch (a PUT is a patch of every field). Undefined when the tenant does not exist. */
  update(tenant: string, patch: TenantPatch): Tenant | undefined {
    const cur = this.get(tenant);
    if (!cur) return undefined;
    if (patch.uscc !== undefined && patch.uscc !== cur.uscc) this.assertUsccFree(patch.uscc, tenant);
    const next: Tenant = { ...cur, updated_at: Date.now() };
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    this.db
      .prepare(
        `UPDATE tenants SET name = @name, uscc = @uscc, region = @region, contact_name = @contact_name, contact_phone = @contact_phone,
           contact_email = @contact_email, address = @address, updated_at = @updated_at WHERE tenant = @tenant`,
      )
      .run(next);
    return next;
  }

  delete(tenant: string): boolean {
    return this.db.prepare('DELETE FROM tenants WHERE tenant = ?').run(tenant).changes > 0;
  }

  /** Number of tenants whose region is in the subtree of `code` (to refuse deleting a region in use). */
  countInRegion(code: string): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM tenants WHERE region LIKE ? || '%'").get(code) as { n: number }).n;
  }

  private assertUsccFree(uscc: string, tenant: string): void {
    const other = this.db.prepare('SELECT tenant FROM tenants WHERE uscc = ? AND tenant <> ?').get(uscc, tenant) as { tenant: string } | undefined;
    if (other) throw new RiskgateError('RG_ERR_CONFLICT', `统一社会信用代码 ${uscc} is already registered as tenant ${other.tenant}`);
  }
}
