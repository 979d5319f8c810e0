import { z } from 'zod';
import { KIND_NAMES, type KindName } from '../kinds/kind.js';
import { RiskgateError } from '../lib/errors.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';
import { DeviceMap } from './device-map.js';

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
  /** Installation date (`2024-05-01`) or ISO-8601 date-time, as given. */
  installedAt?: string;
  /** Who installed it (company or person). */
  installer?: string;
  /** WGS-84 degrees. */
  lat?: number;
  lon?: number;
  /** Gateway time it was first registered, epoch ms (bounds the readings expected of it). Set by the registry. */
  createdAt?: number;
  /** Gateway time of its latest change, epoch ms. Set by the registry. */
  updatedAt?: number;
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
  installed_at: z.union([z.iso.date(), z.iso.datetime({ offset: true })], { message: 'must be a date (2024-05-01) or an ISO-8601 date-time with offset' }).optional(),
  installer: z.string().max(128).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
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
    installedAt: d.installed_at,
    installer: d.installer,
    lat: d.lat,
    lon: d.lon,
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
  // 2: installation details (registry issue). Deleting a device deletes only this row: alerts and points keep its id.
  `ALTER TABLE devices ADD COLUMN installed_at TEXT;
   ALTER TABLE devices ADD COLUMN installer TEXT;
   ALTER TABLE devices ADD COLUMN lat REAL;
   ALTER TABLE devices ADD COLUMN lon REAL;`,
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
  installed_at: string | null;
  installer: string | null;
  lat: number | null;
  lon: number | null;
  created_at: number;
  updated_at: number;
}

/** Device list filters; every one optional. */
export interface DeviceFilter {
  tenant?: string;
  kind?: KindName;
  /** A GB/T 2260 code prefix: the device's region starts with it. */
  region?: string;
  site?: string;
}

/**
 * Devices known to the gateway, stored in SQLite and mirrored in memory: the hot path looks a device up in a Map.
 */
export class DeviceRegistry {
  private readonly db: SqliteDb;
  /** The devices by tenant, then device id: `get` builds no key string (issue 9: one lookup per message, and no key string per device). */
  private readonly byTenant = new DeviceMap<Device>();
  /** `list({ kind })` of every kind, built on demand and dropped on every change (the rule engine's tick reads it each second). */
  private kinds: Map<KindName, readonly Device[]> | undefined;
  /** One copy of each string the records repeat (tenant, kind, model, region, site, location; issue 9: memory). */
  private readonly strings = new Map<string, string>();
  private readonly intern = <T extends string | undefined>(value: T): T => {
    if (value === undefined) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    this.strings.set(value, value);
    return value;
  };

  constructor(db: SqliteDb) {
    this.db = db;
  }

  start(): void {
    migrate(this.db, 'registry', MIGRATIONS);
    this.byTenant.clear();
    this.kinds = undefined;
    // Row by row: 100 000 rows held at once were a transient 0.1 GB on start (issue 9: memory).
    for (const row of this.db.prepare('SELECT * FROM devices').iterate() as IterableIterator<DeviceRow>) this.put(fromRow(row, this.intern));
  }

  /** O(1) lookup for the ingest path. */
  get(tenant: string, deviceId: string): Device | undefined {
    return this.byTenant.get(tenant, deviceId);
  }

  list(filter: DeviceFilter = {}): Device[] {
    const out: Device[] = [];
    for (const d of this.byTenant.values()) {
      if (filter.tenant && d.tenant !== filter.tenant) continue;
      if (filter.kind && d.kind !== filter.kind) continue;
      if (filter.region !== undefined && !(d.region ?? '').startsWith(filter.region)) continue;
      if (filter.site !== undefined && d.site !== filter.site) continue;
      out.push(d);
    }
    return out;
  }

  /** The devices of one kind, as `list({ kind })` returns them; the same array until the registry changes. */
  ofKind(kind: KindName): readonly Device[] {
    this.kinds ??= new Map();
    let out = this.kinds.get(kind);
    if (!out) {
      out = this.list({ kind });
      this.kinds.set(kind, out);
    }
    return out;
  }

  get size(): number {
    return this.byTenant.size;
  }

  /**
   * Inserts or replaces devices in one transaction (seed files, bulk import). A replaced device keeps its `createdAt`;
   * every field not given is cleared.
   */
  upsert(devices: readonly Device[]): Device[] {
    return this.write(devices, 'upsert');
  }

  /** Registers a new device. RG_ERR_CONFLICT when (tenant, device_id) is taken. */
  create(device: Device): Device {
    if (this.get(device.tenant, device.deviceId)) throw new RiskgateError('RG_ERR_CONFLICT', `device ${device.tenant}/${device.deviceId} already exists`);
    return this.write([device], 'insert')[0] as Device;
  }

  /** Replaces the record of an existing device (same key); undefined when there is none. */
  replace(device: Device): Device | undefined {
    if (!this.get(device.tenant, device.deviceId)) return undefined;
    return this.write([device], 'upsert')[0];
  }

  /**
   * Removes a device from the registry: from then on its readings are rejected as unknown. Its history (alerts, points,
   * rule state) is kept under the same id. Returns the removed record.
   */
  delete(tenant: string, deviceId: string): Device | undefined {
    const d = this.get(tenant, deviceId);
    if (!d) return undefined;
    this.db.prepare('DELETE FROM devices WHERE tenant = ? AND device_id = ?').run(tenant, deviceId);
    this.byTenant.delete(tenant, deviceId);
    this.kinds = undefined;
    return d;
  }

  /** SQLite first, in one transaction; the in-memory map only once it committed, so both stay in step. */
  private write(devices: readonly Device[], mode: 'insert' | 'upsert'): Device[] {
    const now = Date.now();
    const stmt = this.db.prepare(
      `INSERT INTO devices (tenant, device_id, kind, model, region, site, location, heartbeat_s, attrs, installed_at, installer, lat, lon, created_at, updated_at)
       VALUES (@tenant, @device_id, @kind, @model, @region, @site, @location, @heartbeat_s, @attrs, @installed_at, @installer, @lat, @lon, @now, @now)
       ${mode === 'insert' ? '' : `ON CONFLICT (tenant, device_id) DO UPDATE SET kind = excluded.kind, model = excluded.model, region = excluded.region,
         site = excluded.site, location = excluded.location, heartbeat_s = excluded.heartbeat_s, attrs = excluded.attrs,
         installed_at = excluded.installed_at, installer = excluded.installer, lat = excluded.lat, lon = excluded.lon,
         updated_at = excluded.updated_at`}`,
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
          installed_at: d.installedAt ?? null,
          installer: d.installer ?? null,
          lat: d.lat ?? null,
          lon: d.lon ?? null,
          now,
        });
      }
    })();
    this.kinds = undefined;
    return devices.map((d) => this.put(record(d, this.get(d.tenant, d.deviceId)?.createdAt ?? now, now, this.intern)));
  }

  /** Into the index. */
  private put(d: Device): Device {
    this.byTenant.set(d.tenant, d.deviceId, d);
    return d;
  }
}


/** Attributes of the many devices that have none: one object, frozen (nothing changes a record's attrs in place). */
const NO_ATTRS: Device['attrs'] = Object.freeze({});

type Intern = <T extends string | undefined>(value: T) => T;

function fromRow(r: DeviceRow, intern: Intern): Device {
  return {
    tenant: intern(r.tenant),
    deviceId: r.device_id,
    kind: intern(r.kind),
    model: intern(r.model ?? undefined),
    region: intern(r.region ?? undefined),
    site: intern(r.site ?? undefined),
    location: intern(r.location ?? undefined),
    heartbeatS: r.heartbeat_s,
    attrs: r.attrs === '{}' ? NO_ATTRS : (JSON.parse(r.attrs) as Device['attrs']),
    installedAt: r.installed_at ?? undefined,
    installer: r.installer ?? undefined,
    lat: r.lat ?? undefined,
    lon: r.lon ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * The stored record of `d`: every field written out, in the order of `fromRow`. Issue 9: `{ ...d, createdAt, updatedAt }`
 * gave every device a hidden class of its own once V8's spread went megamorphic (≈ 0.5 KB per device in maps and
 * descriptor arrays); one literal shape gives all of them one.
 */
function record(d: Device, createdAt: number, updatedAt: number, intern: Intern): Device {
  // Every key of Device spelled out (a field added to Device and forgotten here is a type error).
  const out: { [K in keyof Required<Device>]: Device[K] } = {
    tenant: intern(d.tenant),
    deviceId: d.deviceId,
    kind: intern(d.kind),
    model: intern(d.model),
    region: intern(d.region),
    site: intern(d.site),
    location: intern(d.location),
    heartbeatS: d.heartbeatS,
    attrs: d.attrs,
    installedAt: d.installedAt,
    installer: d.installer,
    lat: d.lat,
    lon: d.lon,
    createdAt,
    updatedAt,
  };
  return out;
}
