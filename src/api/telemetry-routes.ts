import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { InfluxDB, flux } from '@influxdata/influxdb-client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, requireRole } from '../auth/principal.js';
import type { StoreConfig } from '../config/env.js';
import { KINDS } from '../kinds/index.js';
import { KIND_NAMES } from '../kinds/kind.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { RiskgateError } from '../lib/errors.js';
import type { FieldValue } from '../pipeline/reading.js';
import type { Device, DeviceRegistry } from '../registry/device-registry.js';
import { REGISTRY_ID } from '../registry/tenant-store.js';
import type { Point } from '../storage/point.js';
import { READERS, visibleOr404 } from './registry-access.js';

/** Read-only access to the time-series store (the writers in src/storage/ only write). */
export interface TelemetryReader {
  /** One device's newest points with time ≥ `sinceMs`, at most `limit`, newest first. */
  recent(q: { measurement: string; tenant: string; device: string; sinceMs: number; limit: number }): Promise<Point[]>;
  /** The newest point of every device of one measurement with time ≥ `sinceMs`. */
  latest(q: { measurement: string; sinceMs: number }): Promise<Point[]>;
  close(): void;
}

/** What the telemetry routes read. */
export interface TelemetryRoutesOptions {
  registry: DeviceRegistry;
  /** The configured store (`config.store`); a read-only reader is opened on it. */
  store: StoreConfig;
  /** A reader to use instead of one opened on `store` (tests). */
  reader?: TelemetryReader;
  /** Gateway clock; default the system clock. */
  clock?: Clock;
}

/** Defaults and bounds of the telemetry routes. */
export const DEFAULT_TELEMETRY_QUERY = {
  /** Window when `since` is left out, ms (1 h). */
  windowMs: 3_600_000,
  /** Points per answer when `limit` is left out. */
  limit: 500,
  /** Largest `limit`. */
  maxLimit: 5000,
  /** Window of `latest` when `since` is left out, ms (1 h: a vehicle silent longer is not "live"). */
  latestWindowMs: 3_600_000,
} as const;

/** `since`: epoch ms, or ISO-8601 with a zone. */
const SINCE = z
  .string()
  .transform((v, ctx) => {
    const ms = /^\d{1,15}$/.test(v) ? Number(v) : /(Z|[+-]\d{2}:?\d{2})$/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) ctx.addIssue({ code: 'custom', message: 'must be epoch ms or ISO-8601 with a zone' });
    return ms;
  })
  .optional();
const RECENT_PARAMS = z.strictObject({ tenant: REGISTRY_ID, deviceId: REGISTRY_ID });
const RECENT_QUERY = z.strictObject({ since: SINCE, limit: z.coerce.number().int().min(1).max(DEFAULT_TELEMETRY_QUERY.maxLimit).default(DEFAULT_TELEMETRY_QUERY.limit) });
const LATEST_QUERY = z.strictObject({ kind: z.enum(KIND_NAMES), since: SINCE });

const deviceScope = (d: Device) => ({ tenant: d.tenant, region: d.region ?? null, deviceId: d.deviceId });
const pointJson = (p: Point) => {
  const { tenant: _t, device: _d, ...tags } = p.tags;
  return { ts: p.timeMs, fields: p.fields, tags };
};

/**
 * Read-only telemetry for the operator console: `GET /api/v1/devices/:tenant/:deviceId/telemetry?since=&limit=` (one
 * device's recent points, oldest first, with each field's unit and Chinese label) and
 * `GET /api/v1/telemetry/latest?kind=&since=` (the newest point of every device of a kind the caller may see: the
 * vehicle map). Scoped like the registry routes: a device outside the token's scope answers 404.
 */
export async function telemetryRoutes(app: FastifyInstance, opts: TelemetryRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const clock = opts.clock ?? systemClock;
  const reader = opts.reader ?? telemetryReaderFor(opts.store);
  app.addHook('onClose', async () => reader.close());
  const read = async <T>(what: () => Promise<T>): Promise<T> => {
    try {
      return await what();
    } catch (err) {
      throw new RiskgateError('RG_ERR_INTERNAL', `the time-series store did not answer: ${(err as Error).message}`);
    }
  };

  r.get('/api/v1/devices/:tenant/:deviceId/telemetry', { schema: { params: RECENT_PARAMS, querystring: RECENT_QUERY } }, async (req) => {
    const p = requireRole(req, READERS);
    const { tenant, deviceId } = req.params;
    const d = visibleOr404(p, opts.registry.get(tenant, deviceId), deviceScope, `device ${tenant}/${deviceId}`);
    const sinceMs = req.query.since ?? clock.now() - DEFAULT_TELEMETRY_QUERY.windowMs;
    const points = await read(() => reader.recent({ measurement: d.kind, tenant, device: deviceId, sinceMs, limit: req.query.limit }));
    return { tenant, device_id: deviceId, kind: d.kind, since: sinceMs, fields: fieldInfo(d.kind), points: points.reverse().map(pointJson) };
  });

  r.get('/api/v1/telemetry/latest', { schema: { querystring: LATEST_QUERY } }, async (req) => {
    const p = requireRole(req, READERS);
    const { kind } = req.query;
    const sinceMs = req.query.since ?? clock.now() - DEFAULT_TELEMETRY_QUERY.latestWindowMs;
    const points = await read(() => reader.latest({ measurement: kind, sinceMs }));
    const devices = [];
    for (const pt of points) {
      const d = opts.registry.get(pt.tags.tenant ?? '', pt.tags.device ?? '');
      if (!d || d.kind !== kind || !canSee(p, deviceScope(d))) continue;
      devices.push({ tenant: d.tenant, device_id: d.deviceId, region: d.region ?? null, attrs: d.attrs, ...pointJson(pt) });
    }
    return { kind, since: sinceMs, fields: fieldInfo(kind), devices };
  });
}

function fieldInfo(kind: keyof typeof KINDS): Record<string, { unit: string; label: string }> {
  return Object.fromEntries(Object.entries(KINDS[kind].fields).map(([name, f]) => [name, { unit: f.unit, label: f.labelZh }]));
}

/** A reader on the configured backend. Nothing is opened until the first query. */
export function telemetryReaderFor(store: StoreConfig): TelemetryReader {
  switch (store.backend) {
    case 'sqlite':
      return sqliteReader(store.path);
    case 'influx-v1':
      return influxV1Reader(store);
    case 'influx-v2':
      return influxV2Reader(store);
  }
}

interface PointRow {
  tenant: string;
  device: string;
  time_ms: number;
  tags: string;
  fields: string;
}

/** A second, read-only connection to readings.db (WAL: readers never block the writer). */
function sqliteReader(path: string): TelemetryReader {
  let db: Database.Database | undefined;
  const open = (): Database.Database | undefined => {
    if (!db && existsSync(path)) db = new Database(path, { readonly: true, fileMustExist: true });
    return db;
  };
  const toPoint = (measurement: string, row: PointRow): Point => ({
    measurement,
    tags: { ...(JSON.parse(row.tags) as Record<string, string>), tenant: row.tenant, device: row.device },
    fields: JSON.parse(row.fields) as Record<string, FieldValue>,
    timeMs: row.time_ms,
  });
  return {
    async recent(q) {
      const rows = open()
        ?.prepare<[string, string, string, number, number], PointRow>('SELECT tenant, device, time_ms, tags, fields FROM points WHERE measurement = ? AND tenant = ? AND device = ? AND time_ms >= ? ORDER BY time_ms DESC LIMIT ?')
        .all(q.measurement, q.tenant, q.device, q.sinceMs, q.limit);
      return (rows ?? []).map((row) => toPoint(q.measurement, row));
    },
    async latest(q) {
      // SQLite: with one max() aggregate, the bare columns come from the row holding the maximum.
      const rows = open()
        ?.prepare<[string, number], PointRow>('SELECT tenant, device, max(time_ms) AS time_ms, tags, fields FROM points WHERE measurement = ? AND time_ms >= ? GROUP BY tenant, device')
        .all(q.measurement, q.sinceMs);
      return (rows ?? []).map((row) => toPoint(q.measurement, row));
    },
    close() {
      db?.close();
      db = undefined;
    },
  };
}

const influxQlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const influxQlIdent = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** InfluxQL over the 1.x `/query` API (GROUP BY + LIMIT 1 is the newest point per device). */
function influxV1Reader(store: Extract<StoreConfig, { backend: 'influx-v1' }>): TelemetryReader {
  const query = async (q: string): Promise<Point[]> => {
    const url = new URL('/query', store.url);
    url.search = new URLSearchParams({ db: store.database, epoch: 'ms', q }).toString();
    const headers: Record<string, string> = store.username ? { authorization: `Basic ${Buffer.from(`${store.username}:${store.password ?? ''}`).toString('base64')}` } : {};
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`InfluxDB answered ${res.status}`);
    const body = (await res.json()) as { results?: { error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[] };
    const result = body.results?.[0];
    if (result?.error) throw new Error(result.error);
    return (result?.series ?? []).flatMap((s) => s.values.map((v) => influxRowToPoint(s.name, s.columns, v, s.tags)));
  };
  return {
    recent: (q) =>
      query(`SELECT * FROM ${influxQlIdent(q.measurement)} WHERE "tenant" = ${influxQlString(q.tenant)} AND "device" = ${influxQlString(q.device)} AND time >= ${Math.trunc(q.sinceMs)}ms ORDER BY time DESC LIMIT ${Math.trunc(q.limit)}`),
    latest: (q) => query(`SELECT * FROM ${influxQlIdent(q.measurement)} WHERE time >= ${Math.trunc(q.sinceMs)}ms GROUP BY "tenant", "device" ORDER BY time DESC LIMIT 1`),
    close() {},
  };
}

/** Flux over the 2.x `/api/v2/query` API, pivoted to one row per point. */
function influxV2Reader(store: Extract<StoreConfig, { backend: 'influx-v2' }>): TelemetryReader {
  let api: ReturnType<InfluxDB['getQueryApi']> | undefined;
  const rows = async (query: ReturnType<typeof flux>, measurement: string): Promise<Point[]> => {
    api ??= new InfluxDB({ url: store.url, token: store.token, timeout: 10_000 }).getQueryApi(store.org);
    const out = await api.collectRows<Record<string, unknown>>(query);
    return out.map((row) => {
      const columns = Object.keys(row).filter((c) => !['result', 'table', '_start', '_stop', '_measurement'].includes(c));
      return influxRowToPoint(measurement, columns.map((c) => (c === '_time' ? 'time' : c)), columns.map((c) => (c === '_time' ? Date.parse(String(row[c])) : row[c])));
    });
  };
  return {
    recent: (q) =>
      rows(
        flux`from(bucket: ${store.bucket}) |> range(start: ${new Date(q.sinceMs)}) |> filter(fn: (r) => r._measurement == ${q.measurement} and r.tenant == ${q.tenant} and r.device == ${q.device}) |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value") |> group() |> sort(columns: ["_time"], desc: true) |> limit(n: ${q.limit})`,
        q.measurement,
      ),
    latest: async (q) => {
      const all = await rows(
        flux`from(bucket: ${store.bucket}) |> range(start: ${new Date(q.sinceMs)}) |> filter(fn: (r) => r._measurement == ${q.measurement}) |> last() |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value") |> group()`,
        q.measurement,
      );
      const newest = new Map<string, Point>();
      for (const p of all) {
        const k = `${p.tags.tenant}/${p.tags.device}`;
        if ((newest.get(k)?.timeMs ?? -Infinity) < p.timeMs) newest.set(k, p);
      }
      return [...newest.values()];
    },
    close() {},
  };
}

/** One InfluxDB row: strings are tags, numbers and booleans fields (the writers store them so), nulls absent. */
function influxRowToPoint(measurement: string, columns: readonly string[], values: readonly unknown[], seriesTags: Record<string, string> = {}): Point {
  const tags: Record<string, string> = { ...seriesTags };
  const fields: Record<string, FieldValue> = {};
  let timeMs = 0;
  columns.forEach((c, i) => {
    const v = values[i];
    if (c === 'time') timeMs = Number(v);
    else if (typeof v === 'string') tags[c] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') fields[c] = v;
  });
  return { measurement, tags, fields, timeMs };
}
