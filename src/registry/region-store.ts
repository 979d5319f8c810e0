import { z } from 'zod';
import { RiskgateError } from '../lib/errors.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';

/** Level of a GB/T 2260 code in prefix form: 2 digits province, 4 city (地级), 6 county (县级). */
export type RegionLevel = 'province' | 'city' | 'county';

/** An administrative division. Stored and sent snake_case. */
export interface Region {
  /** GB/T 2260 code in prefix form: `51`, `5101`, `510104`. An operator's scope prefix is such a code. */
  code: string;
  name: string;
  level: RegionLevel;
  /** Derived from the code: `510104` → `5101` → `51` → null. */
  parent: string | null;
}

/**
 * Canonical prefix form of a GB/T 2260 code: the six-digit padded forms `510000` (province) and `510100` (city) become
 * `51` and `5101`, so that an operator prefix `5101` covers every code under Chengdu. Undefined when it is not a
 * 2-, 4- or 6-digit code.
 */
export function canonicalRegion(code: string): string | undefined {
  if (!/^(\d{2}|\d{4}|\d{6})$/.test(code)) return undefined;
  let c = code;
  while (c.length > 2 && c.endsWith('00')) c = c.slice(0, -2);
  return c === '00' ? undefined : c;
}

export function regionLevel(code: string): RegionLevel {
  return code.length === 2 ? 'province' : code.length === 4 ? 'city' : 'county';
}

export function regionParent(code: string): string | null {
  return code.length <= 2 ? null : code.slice(0, code.length - 2);
}

/** A region code as written by a person: 2/4/6 digits, six-digit padded forms accepted and canonicalised. */
export const REGION_CODE = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const c = canonicalRegion(v);
    if (c === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a GB/T 2260 code: 2 digits (province), 4 (city) or 6 (county), e.g. 51, 5101, 510104' });
      return z.NEVER;
    }
    return c;
  });

export const REGION_INPUT_SCHEMA = z.strictObject({ code: REGION_CODE, name: z.string().trim().min(1).max(64) });
export const REGION_PATCH_SCHEMA = z.strictObject({ name: z.string().trim().min(1).max(64) });

/**
 * Regions loaded into an empty table at start: Sichuan, Chengdu and its twelve districts (市辖区 as county-level
 * divisions). Codes from the MCA list of county-level and above divisions; `510100` is the six-digit form of 成都市 itself
 * (canonical `5101`), not 市辖区. Anything else is added with `POST /api/v1/regions`.
 */
export const REGION_SEED: readonly { code: string; name: string }[] = [
  { code: '51', name: '四川省' },
  { code: '5101', name: '成都市' },
  { code: '510104', name: '锦江区' },
  { code: '510105', name: '青羊区' },
  { code: '510106', name: '金牛区' },
  { code: '510107', name: '武侯区' },
  { code: '510108', name: '成华区' },
  { code: '510112', name: '龙泉驿区' },
  { code: '510113', name: '青白江区' },
  { code: '510114', name: '新都区' },
  { code: '510115', name: '温江区' },
  { code: '510116', name: '双流区' },
  { code: '510117', name: '郫都区' },
  { code: '510118', name: '新津区' },
];

const MIGRATIONS = [
  `CREATE TABLE regions (
     code TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     parent TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID`,
];

interface RegionRow {
  code: string;
  name: string;
  parent: string | null;
}

/** The GB/T 2260 region tree, in SQLite (small: read on demand). Parents must exist before children. */
export class RegionStore {
  private readonly db: SqliteDb;

  constructor(db: SqliteDb) {
    this.db = db;
  }

  /** Migrates; loads `seed` (default REGION_SEED) when the table is empty. */
  start(seed: readonly { code: string; name: string }[] = REGION_SEED): void {
    migrate(this.db, 'regions', MIGRATIONS);
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM regions').get() as { n: number };
    if (n > 0) return;
    this.db.transaction(() => {
      // Parents first: shorter codes before longer ones.
      for (const r of [...seed].sort((a, b) => a.code.length - b.code.length)) this.create(r);
    })();
  }

  get(code: string): Region | undefined {
    const row = this.db.prepare('SELECT code, name, parent FROM regions WHERE code = ?').get(code) as RegionRow | undefined;
    return row && toRegion(row);
  }

  has(code: string): boolean {
    return this.db.prepare('SELECT 1 FROM regions WHERE code = ?').get(code) !== undefined;
  }

  /** Regions ordered by code; `under` = a code whose subtree (itself included) is listed; `parent` = direct children. */
  list(filter: { under?: string; parent?: string; level?: RegionLevel } = {}): Region[] {
    const rows = this.db.prepare('SELECT code, name, parent FROM regions ORDER BY code').all() as RegionRow[];
    return rows
      .map(toRegion)
      .filter((r) => (filter.under === undefined || r.code.startsWith(filter.under)) && (filter.parent === undefined || r.parent === filter.parent) && (filter.level === undefined || r.level === filter.level));
  }

  /** The region and its ancestors, root first: `510104` → [51, 5101, 510104]. */
  path(code: string): Region[] {
    const out: Region[] = [];
    for (let c: string | null = code; c !== null; c = regionParent(c)) {
      const r = this.get(c);
      if (r) out.unshift(r);
    }
    return out;
  }

  /** Creates a region; its parent must exist. RG_ERR_CONFLICT when the code exists. */
  create(input: { code: string; name: string }): Region {
    const parent = regionParent(input.code);
    if (parent !== null && !this.has(parent)) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', `body.code: parent region ${parent} does not exist; create it first`, [{ field: 'body.code', rule: 'parent_exists', message: `parent region ${parent} does not exist` }]);
    if (this.has(input.code)) throw new RiskgateError('RG_ERR_CONFLICT', `region ${input.code} already exists`);
    const now = Date.now();
    this.db.prepare('INSERT INTO regions (code, name, parent, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(input.code, input.name, parent, now, now);
    return { code: input.code, name: input.name, level: regionLevel(input.code), parent };
  }

  /** Renames a region (a code never changes: it is the key that scopes operators). Undefined when absent. */
  rename(code: string, name: string): Region | undefined {
    const r = this.db.prepare('UPDATE regions SET name = ?, updated_at = ? WHERE code = ?').run(name, Date.now(), code);
    return r.changes === 0 ? undefined : this.get(code);
  }

  /** Deletes a leaf region. RG_ERR_CONFLICT when it has children; the caller checks other references. */
  delete(code: string): boolean {
    const child = this.db.prepare('SELECT code FROM regions WHERE parent = ? LIMIT 1').get(code) as { code: string } | undefined;
    if (child) throw new RiskgateError('RG_ERR_CONFLICT', `region ${code} has sub-regions (e.g. ${child.code}); delete them first`);
    return this.db.prepare('DELETE FROM regions WHERE code = ?').run(code).changes > 0;
  }
}

function toRegion(r: RegionRow): Region {
  return { code: r.code, name: r.name, level: regionLevel(r.code), parent: r.parent };
}
