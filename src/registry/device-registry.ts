import { z } from 'zod';
import { KIND_NAMES, type KindName } from '../kinds/kind.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';

/** A registered device. Wire and stored names are snake_case; this is the TypeScript view. */
export interface Device {
  tenant: string;
  deviceId: string;
  kind: KindName;
  model?: string;
  /** Administrative region code (GB/T 2260, e.g. `510104`). */
  region?: string;
  site?: string;
  /** Installation location text, e.g. `3层厨房`. */
  location?: string;
  /** Expected reporting interval, seconds. */
  heartbeatS: number;
  /** Kind-specific attributes (vehicle class, plate, set points…). */
  attrs: Record<string, string | number | boolean>;
}

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The device record as it appears in seed files and (later) the REST API. */
export const DEVICE_INPUT_SCHEMA = z.strictObject({
  tenant: z.string().regex(ID, { message: 'must be 1–64 characters of A–Z a–z 0–9 _ . : -' }),
  device_id: z.string().regex(ID, { message: 'must be 1–64 characters of A–Z a–z 0–9 _ . : -' }),
  kind: z.enum(KIND_NAMES),
  model: z.string().max(128).optional(),
  region: z.string().regex(/^\d{2,12}$/, { message: 'must be a GB/T 2260 code (digits)' }).optional(),
  site: z.string().max(128).optional(),
  location: z.string().max(256).optional(),
  heartbeat_s: z.number().int().min(1).max(7 * 86_400).default(60),
  attrs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
export type DeviceInput = z.input<typeof DEVICE_INPUT_SCHEMA>;

export function deviceFromInput(d: z.output<typeof DEVICE_INPUT_SCHEMA>): Device {
  return {
    tenant: d.tenant,
    deviceId: d.device_id,
    kind: d.kind,
    model: d.model,
    region: d.region,
    site: d.site,
    location: d.location,
    heartbeatS: d.heartbeat_s,
    attrs: d.attrs,
  };
}

const MIGRATIONS = [
  `CREATE TABLE devices (
     tenant TEXT NOT NULL,
     device_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     model TEXT,
     region TEXT,
     site TEXT,
     location TEXT,
     heartbeat_s INTEGER NOT NULL,
     attrs TEXT NOT NULL DEFAULT '{}',
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (tenant, device_id)
   )`,
];

interface DeviceRow {
  tenant: string;
  device_id: string;
  kind: KindName;
  model: string | null;
  region: string | null;
  site: string | null;
  location: string | null;
  heartbeat_s: number;
  attrs: string;
}

/**
 * Devices known to the gateway, stored in SQLite and mirrored in memory: the hot path looks a device up in a Map.
 */
export class DeviceRegistry {
  private readonly db: SqliteDb;
  private readonly byKey = new Map<string, Device>();

  constructor(db: SqliteDb) {
    this.db = db;
  }

  start(): void {
    migrate(this.db, 'registry', MIGRATIONS);
    this.byKey.clear();
    for (const row of this.db.prepare('SELECT * FROM devices').all() as DeviceRow[]) {
      const d = fromRow(row);
      this.byKey.set(key(d.tenant, d.deviceId), d);
    }
  }

  /** O(1) lookup for the ingest path. */
  get(tenant: string, deviceId: string): Device | undefined {
    return this.byKey.get(key(tenant, deviceId));
  }

  list(filter: { tenant?: string; kind?: KindName } = {}): Device[] {
    const out: Device[] = [];
    for (const d of this.byKey.values()) {
      if (filter.tenant && d.tenant !== filter.tenant) continue;
      if (filter.kind && d.kind !== filter.kind) continue;
      out.push(d);
    }
    return out;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Inserts or updates devices in one transaction. */
  upsert(devices: readonly Device[]): void {
    const now = Date.now();
    const stmt = this.db.prepare(
      `INSERT INTO devices (tenant, device_id, kind, model, region, site, location, heartbeat_s, attrs, created_at, updated_at)
       VALUES (@tenant, @device_id, @kind, @model, @region, @site, @location, @heartbeat_s, @attrs, @now, @now)
       ON CONFLICT (tenant, device_id) DO UPDATE SET kind = excluded.kind, model = excluded.model, region = excluded.region,
         site = excluded.site, location = excluded.location, heartbeat_s = excluded.heartbeat_s, attrs = excluded.attrs,
         updated_at = excluded.updated_at`,
    );
    this.db.transaction(() => {
      for (const d of devices) {
        stmt.run({
          tenant: d.tenant,
          device_id: d.deviceId,
          kind: d.kind,
          model: d.model ?? null,
          region: d.region ?? null,
          site: d.site ?? null,
          location: d.location ?? null,
          heartbeat_s: d.heartbeatS,
          attrs: JSON.stringify(d.attrs),
          now,
        });
      }
    })();
    for (const d of devices) this.byKey.set(key(d.tenant, d.deviceId), d);
  }
}

function key(tenant: string, deviceId: string): string {
  return `${tenant}\u0000${deviceId}`;
}

function fromRow(r: DeviceRow): Device {
  return {
    tenant: r.tenant,
    deviceId: r.device_id,
    kind: r.kind,
    model: r.model ?? undefined,
    region: r.region ?? undefined,
    site: r.site ?? undefined,
    location: r.location ?? undefined,
    heartbeatS: r.heartbeat_s,
    attrs: JSON.parse(r.attrs) as Device['attrs'],
  };
}
