// The acceptance test of the ingest → storage path: "An integration test publishes N readings of each kind through a
// real Mosquitto and finds exactly N points with equal values and timestamps, for each backend."
// Expected fields and tags are written out by hand per kind (not derived with src/kinds), so a wrong toFields shows.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KindName } from '../../src/kinds/kind.js';
import type { DeadLetter } from '../../src/pipeline/dead-letters.js';
import type { FieldValue } from '../../src/pipeline/reading.js';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { connectPublisher, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startInfluxd, startMosquitto, startVictoriaMetrics, waitFor, type RunningService } from '../helpers/services.js';

/** Readings published per kind (split over the kind's two fixture devices). */
const N = 50;
const KIND_ORDER: readonly KindName[] = ['gas', 'dust', 'electrical_fire', 'smoke', 'vehicle'];
const STORE_TIMEOUT_MS = 30_000;

/** Fixture devices (test/fixtures/devices.yaml) with the registry tags every stored point must carry. */
const DEVICES: Record<KindName, readonly { tenant: string; deviceId: string; region: string; site?: string }[]> = {
  gas: [
    { tenant: 't1', deviceId: 'gas-1', region: '510104', site: 'kitchen' },
    { tenant: 't1', deviceId: 'gas-2', region: '510104', site: 'kitchen' },
  ],
  dust: [
    { tenant: 't1', deviceId: 'dust-1', region: '510116', site: 'workshop-1' },
    { tenant: 't2', deviceId: 'dust-2', region: '510116', site: 'workshop-2' },
  ],
  electrical_fire: [
    { tenant: 't1', deviceId: 'efm-1', region: '510104', site: 'board-room' },
    { tenant: 't2', deviceId: 'efm-2', region: '510114', site: 'board-room' },
  ],
  smoke: [
    { tenant: 't2', deviceId: 'smoke-1', region: '510104', site: 'building-3' },
    { tenant: 't2', deviceId: 'smoke-2', region: '510104', site: 'building-5' },
  ],
  vehicle: [
    { tenant: 't3', deviceId: '013912345678', region: '510100' },
    { tenant: 't3', deviceId: '013912345679', region: '510100' },
  ],
};

/** What reading `i` of a kind sends in `data`, and the fields and payload tags it must be stored as. */
interface Sample {
  data: Record<string, unknown>;
  fields: Record<string, FieldValue>;
  tags: Record<string, string>;
}

/** Values vary with `i` and cover floats, ints, booleans, enums (tags), arrays, phase objects and "bool or code". */
const SAMPLES: Record<KindName, (i: number) => Sample> = {
  gas: (i) => {
    const gasType = ['CH4', 'C3H8', 'LPG'][i % 3] as string;
    const valve = i % 2 === 0 ? 'open' : 'closed';
    const lel = Math.round(i * 137) / 100; // 0 … 67.13
    return {
      data: { gas_type: gasType, concentration_lel: lel, alarm_level: i % 3, sensor_fault: i % 5 === 0, valve_state: valve, battery_v: 3 + i / 100, rsrp_dbm: -60 - i },
      fields: { concentration_lel: lel, alarm_level: i % 3, sensor_fault: i % 5 === 0, battery_v: 3 + i / 100, rsrp_dbm: -60 - i },
      tags: { gas_type: gasType, valve_state: valve },
    };
  },
  dust: (i) => {
    // `spark_detected` as a count is stored as `spark_count` + boolean `spark_detected`; every 5th sends a boolean.
    const spark = i % 5 === 0 ? false : i % 4;
    const sparkFields: Record<string, FieldValue> = typeof spark === 'number' ? { spark_detected: spark > 0, spark_count: spark } : { spark_detected: spark };
    return {
      data: { hopper_temp_c: 20 + i * 0.7, diff_pressure_pa: 1000 + i * 3, fan_running: i % 2 === 0, spark_detected: spark, vent_state: 'intact' },
      fields: { hopper_temp_c: 20 + i * 0.7, diff_pressure_pa: 1000 + i * 3, fan_running: i % 2 === 0, ...sparkFields },
      tags: { vent_state: 'intact' },
    };
  },
  electrical_fire: (i) => ({
    data: { residual_current_ma: 100 + i, temp_c: [40 + i / 10, 41 + i / 20], current_a: { a: 100 + i / 4, b: 99.5 }, arc_alarm: i % 7 === 0 },
    fields: { residual_current_ma: 100 + i, temp_c_1: 40 + i / 10, temp_c_2: 41 + i / 20, current_a_a: 100 + i / 4, current_a_b: 99.5, arc_alarm: i % 7 === 0 },
    tags: {},
  }),
  smoke: (i) => {
    // `fault` as a code is stored as `fault_code` + boolean `fault`.
    const fault = i % 3 === 0 ? i : false;
    const faultFields: Record<string, FieldValue> = typeof fault === 'number' ? { fault: fault !== 0, fault_code: fault } : { fault };
    return {
      data: { smoke_db_m: i / 500, alarm: i % 10 === 0, fault, battery_pct: 100 - i, self_test: 'ok', cell_id: 118_823_169 + i },
      fields: { smoke_db_m: i / 500, alarm: i % 10 === 0, battery_pct: 100 - i, cell_id: 118_823_169 + i, ...faultFields },
      tags: { self_test: 'ok' },
    };
  },
  vehicle: (i) => {
    // JT/T 808 status bits: bit0 ACC on, bit1 located; the stored flags are derived from them.
    const status = i % 2 === 0 ? 0x004c_0003 : 0x0000_0002;
    return {
      data: { lat: 30.65742 + i * 1e-5, lon: 104.06584 + i * 1e-5, speed_kmh: (i * 1.7) % 120, heading_deg: (i * 7) % 360, status_bits: status, mileage_km: 123456.7 + i / 10, satellites: 5 + (i % 20) },
      fields: {
        lat: 30.65742 + i * 1e-5,
        lon: 104.06584 + i * 1e-5,
        speed_kmh: (i * 1.7) % 120,
        heading_deg: (i * 7) % 360,
        status_bits: status,
        acc_on: i % 2 === 0,
        located: true,
        mileage_km: 123456.7 + i / 10,
        satellites: 5 + (i % 20),
      },
      tags: {},
    };
  },
};

/** One point as a backend returns it, backend-neutral. */
interface StoredPoint {
  timeMs: number;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
}

/** One published reading and the point it must become. */
interface Published {
  topic: string;
  payload: string;
  device: string;
  expected: StoredPoint;
}

/** Device time as the three wire forms: epoch ms, ISO-8601 UTC, and zone-less Beijing time (domain.md §0). */
function wireTime(ms: number, i: number): string | number {
  if (i % 3 === 0) return ms;
  if (i % 3 === 1) return new Date(ms).toISOString();
  return new Date(ms + 8 * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * N readings of `kind`, alternating over its two devices, with distinct device times ten minutes back (inside the
 * accepted window) at odd milliseconds, so truncation to seconds would show.
 */
function readingsOf(kind: KindName, n = N): Published[] {
  const baseMs = Math.floor((Date.now() - 10 * 60_000) / 1000) * 1000 + 123 + KIND_ORDER.indexOf(kind);
  return Array.from({ length: n }, (_, i) => {
    const dev = DEVICES[kind][i % 2] as (typeof DEVICES)[KindName][number];
    const { data, fields, tags } = SAMPLES[kind](i);
    const timeMs = baseMs + i * 1000;
    const registryTags: Record<string, string> = { region: dev.region, ...(dev.site === undefined ? {} : { site: dev.site }) };
    return {
      topic: `rg/v1/${dev.tenant}/${kind}/${dev.deviceId}/telemetry`,
      payload: JSON.stringify({ ts: wireTime(timeMs, i), seq: i, data }),
      device: dev.deviceId,
      expected: { timeMs, tags: { ...tags, ...registryTags, tenant: dev.tenant, device: dev.deviceId }, fields },
    };
  });
}

async function publishAll(client: MqttClient, readings: readonly Published[]): Promise<void> {
  await Promise.all(readings.map((r) => client.publishAsync(r.topic, r.payload, { qos: 1 })));
}

function byTime(a: StoredPoint, b: StoredPoint): number {
  return a.timeMs - b.timeMs;
}

/** How a test reads points back from one backend. */
interface StoreReader {
  /** Every point of a measurement. */
  points(kind: KindName): Promise<StoredPoint[]>;
  /** True when numbers come back as ~12 significant digits and booleans as 1/0 (VictoriaMetrics). */
  lossy: boolean;
}

function sqliteReader(gw: TestGateway): StoreReader {
  return {
    lossy: false,
    points: async (kind) =>
      (gw.gateway.writer as SqlitePointWriter).query({ measurement: kind }).map(({ timeMs, tags, fields }) => ({ timeMs, tags, fields })),
  };
}

function influxV1Reader(influxd: RunningService, database: string): StoreReader {
  return {
    lossy: false,
    points: async (kind) => {
      // GROUP BY * puts the tags of each series in `tags` and leaves only fields in the columns.
      const q = new URLSearchParams({ db: database, epoch: 'ms', q: `SELECT * FROM "${kind}" GROUP BY *` });
      const body = (await (await fetch(`${influxd.url}/query?${q}`)).json()) as {
        results: { error?: string; series?: { tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
      };
      const result = body.results[0];
      if (result?.error !== undefined) throw new Error(result.error);
      const out: StoredPoint[] = [];
      for (const s of result?.series ?? []) {
        for (const row of s.values) {
          const p: StoredPoint = { timeMs: 0, tags: Object.fromEntries(Object.entries(s.tags ?? {}).filter(([, v]) => v !== '')), fields: {} };
          s.columns.forEach((col, i) => {
            const v = row[i];
            if (col === 'time') p.timeMs = v as number;
            else if (v !== null) p.fields[col] = v as FieldValue;
          });
          out.push(p);
        }
      }
      return out;
    },
  };
}

function victoriaMetricsReader(vm: RunningService): StoreReader {
  return {
    lossy: true,
    points: async (kind) => {
      // Rows become searchable after a short in-memory buffer; force_flush shortens the wait.
      await fetch(`${vm.url}/internal/force_flush`);
      const match = encodeURIComponent(`{__name__=~"${kind}_.+"}`);
      const text = await (await fetch(`${vm.url}/api/v1/export?match[]=${match}`)).text();
      // VictoriaMetrics names a series `<measurement>_<field>`; tags become labels. One point = one (labels, time).
      const byKey = new Map<string, StoredPoint>();
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const { metric, values, timestamps } = JSON.parse(line) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
        const { __name__: name = '', ...labels } = metric;
        const field = name.slice(kind.length + 1);
        timestamps.forEach((t, i) => {
          const key = `${labels.tenant}/${labels.device}@${t}`;
          const p = byKey.get(key) ?? { timeMs: t, tags: {}, fields: {} };
          Object.assign(p.tags, labels);
          p.fields[field] = values[i] as number;
          byKey.set(key, p);
        });
      }
      return [...byKey.values()];
    },
  };
}

function sampleCount(points: readonly StoredPoint[]): number {
  return points.reduce((n, p) => n + Object.keys(p.fields).length, 0);
}

/** Field values that differ beyond what the backend keeps: exact, or ~12 significant digits with booleans as 1/0. */
function fieldMismatches(got: StoredPoint, want: StoredPoint, lossy: boolean): string[] {
  if (!lossy) return [];
  const off: string[] = [];
  for (const [k, v] of Object.entries(want.fields)) {
    const expected = Number(v);
    const actual = got.fields[k];
    if (typeof actual !== 'number' || Math.abs(actual - expected) > 1e-11 * Math.max(1, Math.abs(expected))) {
      off.push(`${want.tags.device}@${want.timeMs} ${k}: got ${String(actual)}, want ${expected}`);
    }
  }
  return off;
}

/**
 * Waits until every sample of `published` is in the store, then checks: exactly the published points per
 * device, equal ms timestamps, equal tags (tenant, device, region, site, payload enums) and equal values.
 */
async function expectStored(reader: StoreReader, kind: KindName, published: readonly Published[]): Promise<void> {
  const want = sampleCount(published.map((p) => p.expected));
  let points: StoredPoint[] = [];
  await waitFor(
    async () => {
      points = await reader.points(kind);
      return sampleCount(points) >= want;
    },
    { timeoutMs: STORE_TIMEOUT_MS, intervalMs: 100, what: `${want} ${kind} samples in the store` },
  );
  expect(points).toHaveLength(published.length);
  for (const dev of DEVICES[kind]) {
    const expected = published.filter((p) => p.device === dev.deviceId).map((p) => p.expected).sort(byTime);
    const got = points.filter((p) => p.tags.device === dev.deviceId).sort(byTime);
    expect(expected).toHaveLength(N / 2);
    expect(got.map((p) => p.timeMs)).toEqual(expected.map((p) => p.timeMs));
    expect(got.map((p) => p.tags)).toEqual(expected.map((p) => p.tags));
    if (reader.lossy) {
      expect(got.map((p) => Object.keys(p.fields).sort())).toEqual(expected.map((p) => Object.keys(p.fields).sort()));
      expect(got.flatMap((p, i) => fieldMismatches(p, expected[i] as StoredPoint, true))).toEqual([]);
    } else {
      expect(got.map((p) => p.fields)).toEqual(expected.map((p) => p.fields));
    }
  }
}

interface Backend {
  name: 'sqlite' | 'influx-v1' | 'influx-v2';
  /** Starts the store (when external) and returns the gateway env for it. */
  start(): Promise<{ env: Record<string, string>; reader: (gw: TestGateway) => StoreReader; stop(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  { name: 'sqlite', start: async () => ({ env: {}, reader: sqliteReader, stop: async () => {} }) },
  {
    name: 'influx-v1',
    start: async () => {
      const influxd = await startInfluxd();
      return { env: { INFLUX_URL: influxd.url, INFLUX_API: 'v1', INFLUX_DATABASE: 'riskgate_it' }, reader: () => influxV1Reader(influxd, 'riskgate_it'), stop: () => influxd.stop() };
    },
  },
  {
    name: 'influx-v2',
    start: async () => {
      // VictoriaMetrics serves /api/v2/write; it ignores org and token.
      const vm = await startVictoriaMetrics();
      return {
        env: { INFLUX_URL: vm.url, INFLUX_API: 'v2', INFLUX_ORG: 'riskgate', INFLUX_BUCKET: 'telemetry', INFLUX_TOKEN: 'dummy-token' },
        reader: () => victoriaMetricsReader(vm),
        stop: () => vm.stop(),
      };
    },
  },
];

describe('ingest → storage', () => {
  describe.each(BACKENDS)('through Mosquitto into $name', (backend) => {
    let mosquitto: RunningService | undefined;
    let store: Awaited<ReturnType<Backend['start']>> | undefined;
    let gw: TestGateway | undefined;
    let publisher: MqttClient | undefined;

    beforeAll(async () => {
      [mosquitto, store] = await Promise.all([startMosquitto(), backend.start()]);
      gw = await startTestGateway({ MQTT_URL: mosquitto.url, ...store.env });
      publisher = await connectPublisher(mosquitto.url);
    });

    afterAll(async () => {
      await publisher?.endAsync(true);
      await gw?.stop();
      await Promise.all([mosquitto?.stop(), store?.stop()]);
    });

    test(`${N} QoS 1 readings of each kind become exactly ${N} points per kind with equal values, timestamps and tags`, async () => {
      const g = gw as TestGateway;
      const published = new Map(KIND_ORDER.map((kind) => [kind, readingsOf(kind)] as const));
      await publishAll(publisher as MqttClient, [...published.values()].flat());

      await waitFor(async () => (await metricValue(g.httpUrl, 'riskgate_points_written_total', { backend: backend.name })) >= N * KIND_ORDER.length, {
        timeoutMs: STORE_TIMEOUT_MS,
        intervalMs: 50,
        what: `${N * KIND_ORDER.length} points acknowledged by ${backend.name}`,
      });
      const reader = (store as NonNullable<typeof store>).reader(g);
      for (const kind of KIND_ORDER) await expectStored(reader, kind, published.get(kind) ?? []);

      for (const kind of KIND_ORDER) expect(await metricValue(g.httpUrl, 'riskgate_readings_accepted_total', { kind })).toBe(N);
      expect(await metricValue(g.httpUrl, 'riskgate_points_written_total', { backend: backend.name })).toBe(N * KIND_ORDER.length);
      expect(await metricValue(g.httpUrl, 'riskgate_readings_rejected_total')).toBe(0);
    });
  });

  describe('through the embedded aedes broker into sqlite (the `npm start` default)', () => {
    let gw: TestGateway | undefined;
    let publisher: MqttClient | undefined;

    beforeAll(async () => {
      gw = await startTestGateway();
      publisher = await connectPublisher(gw.mqttUrl);
    });

    afterAll(async () => {
      await publisher?.endAsync(true);
      await gw?.stop();
    });

    test(`${N} QoS 1 gas readings become exactly ${N} points with equal values, timestamps and tags`, async () => {
      const g = gw as TestGateway;
      expect(g.gateway.broker).toBeDefined();
      const published = readingsOf('gas');
      await publishAll(publisher as MqttClient, published);

      await expectStored(sqliteReader(g), 'gas', published);
      expect(await metricValue(g.httpUrl, 'riskgate_readings_accepted_total', { kind: 'gas' })).toBe(N);
      await waitFor(async () => (await metricValue(g.httpUrl, 'riskgate_points_written_total', { backend: 'sqlite' })) === N, {
        timeoutMs: 5_000,
        intervalMs: 50,
        what: 'points_written_total to count the batch',
      });
    });

    test('a { readings: [...] } batch with one bad entry stores the good ones and dead-letters the bad one by its path', async () => {
      const g = gw as TestGateway;
      const dev = DEVICES.dust[0] as (typeof DEVICES)['dust'][number];
      const entries = readingsOf('dust', 12).filter((r) => r.device === dev.deviceId); // 6 readings of dust-1
      const body = entries.map((r) => JSON.parse(r.payload) as { ts: unknown; seq: number; data: Record<string, unknown> });
      const BAD = 3;
      (body[BAD] as (typeof body)[number]).data.hopper_temp_c = 950; // above the 400 °C bound
      const acceptedBefore = await metricValue(g.httpUrl, 'riskgate_readings_accepted_total', { kind: 'dust' });
      const rejectedBefore = await metricValue(g.httpUrl, 'riskgate_readings_rejected_total', { reason: 'schema_violation' });
      const topic = `rg/v1/${dev.tenant}/dust/${dev.deviceId}/telemetry`;

      await (publisher as MqttClient).publishAsync(topic, JSON.stringify({ readings: body }), { qos: 1 });

      const good = entries.filter((_, i) => i !== BAD);
      const reader = sqliteReader(g);
      let stored: StoredPoint[] = [];
      await waitFor(
        async () => {
          stored = (await reader.points('dust')).filter((p) => p.tags.device === dev.deviceId);
          return stored.length >= good.length;
        },
        { timeoutMs: 10_000, intervalMs: 50, what: `${good.length} dust points` },
      );
      expect(stored.sort(byTime)).toEqual(good.map((r) => r.expected).sort(byTime));
      expect(await metricValue(g.httpUrl, 'riskgate_readings_accepted_total', { kind: 'dust' })).toBe(acceptedBefore + good.length);
      expect(await metricValue(g.httpUrl, 'riskgate_readings_rejected_total', { reason: 'schema_violation' })).toBe(rejectedBefore + 1);

      const res = await fetch(`${g.httpUrl}/api/v1/dead-letters?tenant=${dev.tenant}&limit=1`, { headers: g.auth });
      const [letter] = ((await res.json()) as { dead_letters: DeadLetter[] }).dead_letters;
      expect(letter).toMatchObject({
        reason: 'schema_violation',
        code: 'RG_ERR_INGEST_SCHEMA_VIOLATION',
        source: 'mqtt',
        topic,
        tenant: dev.tenant,
        deviceId: dev.deviceId,
        path: `readings[${BAD}].data.hopper_temp_c`,
      });
      expect(letter?.message).toMatch(/readings\[3\]\.data\.hopper_temp_c: must be ≤ 400 \(°C\), got 950/);
    });
  });
});
