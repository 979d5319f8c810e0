import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FieldValue } from '../../../src/pipeline/reading.js';
import { WriteBatcher } from '../../../src/storage/batcher.js';
import { createPointWriter } from '../../../src/storage/index.js';
import type { Point, PointWriter } from '../../../src/storage/point.js';
import { startInfluxd, startVictoriaMetrics, waitFor, type RunningService } from '../../helpers/services.js';

const GAS_POINTS = 240;
const DUST_POINTS = 160;
// An hour back: inside VictoriaMetrics' default 1-month retention, odd ms so truncation to seconds would show.
const BASE_MS = Date.now() - 3_600_000 + 123;

/** Two measurements; `temperature_c` is integer-valued first and fractional later, `fault_code` always integer-valued. */
function fixture(): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < GAS_POINTS; i++) {
    points.push({
      measurement: 'gas',
      tags: { tenant: 'acme', device: `gas-${i % 3}`, region: 'sh-pudong', gas_type: 'methane' },
      fields: { concentration_lel: i * 0.25 + 0.1, temperature_c: i < 10 ? 20 + i : 20 + i / 8, fault_code: i % 5, alarm: i % 7 === 0 },
      timeMs: BASE_MS + i * 1001,
    });
  }
  for (let i = 0; i < DUST_POINTS; i++) {
    points.push({
      measurement: 'dust',
      tags: { tenant: 'mill', device: `dust-${i % 2}` },
      fields: { concentration_mg_m3: i / 3, spark_detected: i % 4 === 1 },
      timeMs: BASE_MS + 17 + i * 997,
    });
  }
  return points;
}

/** Writes through the batcher as the gateway does: several batches, one in flight. */
async function writeAll(writer: PointWriter, points: readonly Point[]): Promise<void> {
  const failures: unknown[] = [];
  const batcher = new WriteBatcher({ writer, options: { maxBatchPoints: 64 }, hooks: { batchFailed: (_n, err) => failures.push(err) } });
  batcher.start();
  for (const p of points) batcher.enqueue(p);
  await batcher.flush();
  await batcher.stop();
  expect(failures).toEqual([]);
  expect(batcher.pendingPoints).toBe(0);
}

function byTime(a: Point, b: Point): number {
  return a.timeMs - b.timeMs;
}

describe('storage/influx-v1 (influxd 1.x)', () => {
  let influxd: RunningService;
  let writer: PointWriter;
  const database = 'riskgate_test';

  async function influxQuery(q: string): Promise<{ columns: string[]; values: unknown[][] }[]> {
    const url = `${influxd.url}/query?db=${database}&epoch=ms&q=${encodeURIComponent(q)}`;
    const body = (await (await fetch(url)).json()) as { results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[] };
    const result = body.results[0];
    if (result?.error !== undefined) throw new Error(result.error);
    return result?.series ?? [];
  }

  beforeAll(async () => {
    influxd = await startInfluxd();
    writer = createPointWriter({ backend: 'influx-v1', url: influxd.url, database });
    await writer.start();
  });

  afterAll(async () => {
    await writer?.stop();
    await influxd?.stop();
  });

  test('start creates the database and ping answers', async () => {
    const [series] = await influxQuery('SHOW DATABASES');
    expect(series?.values.flat()).toContain(database);
    expect(await writer.ping()).toBe(true);
  });

  test('every point reads back with equal tags, values and ms timestamps', async () => {
    const points = fixture();
    await writeAll(writer, points);
    for (const measurement of ['gas', 'dust']) {
      const expected = points.filter((p) => p.measurement === measurement).sort(byTime);
      const [series] = await influxQuery(`SELECT * FROM "${measurement}" ORDER BY time`);
      const tagKeys = new Set(Object.keys(expected[0]?.tags ?? {}));
      const got = (series?.values ?? []).map((row) => {
        const p: Point = { measurement, tags: {}, fields: {}, timeMs: 0 };
        series?.columns.forEach((col, i) => {
          const v = row[i];
          if (col === 'time') p.timeMs = v as number;
          else if (tagKeys.has(col)) p.tags[col] = v as string;
          else p.fields[col] = v as FieldValue;
        });
        return p;
      });
      expect(got).toHaveLength(expected.length);
      expect(got).toEqual(expected);
    }
  });

  test('numbers are stored as floats and booleans as booleans, so field types never conflict', async () => {
    const [gas] = await influxQuery('SHOW FIELD KEYS FROM "gas"');
    expect(Object.fromEntries((gas?.values ?? []) as [string, string][])).toEqual({
      alarm: 'boolean',
      concentration_lel: 'float',
      fault_code: 'float',
      temperature_c: 'float',
    });
  });

  test('a re-delivered point collapses onto the stored one', async () => {
    const [first] = fixture();
    await writer.write([first as Point]);
    const [count] = await influxQuery('SELECT count(concentration_lel) FROM "gas"');
    expect(count?.values[0]?.[1]).toBe(GAS_POINTS);
  });

  test('an unreachable server makes ping false and write reject', async () => {
    const down = createPointWriter({ backend: 'influx-v1', url: 'http://127.0.0.1:1', database, createDatabase: false });
    await down.start();
    expect(await down.ping()).toBe(false);
    await expect(down.write(fixture().slice(0, 3))).rejects.toThrow();
    await down.stop();
  });
});

describe('storage/influx-v2 (VictoriaMetrics /api/v2/write)', () => {
  let vm: RunningService;
  let writer: PointWriter;

  interface ExportLine {
    metric: Record<string, string>;
    values: number[];
    timestamps: number[];
  }

  async function exportSeries(): Promise<ExportLine[]> {
    const match = encodeURIComponent('{__name__=~"(gas|dust)_.+"}');
    const text = await (await fetch(`${vm.url}/api/v1/export?match[]=${match}`)).text();
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as ExportLine);
  }

  /** Sample identity `name{labels} @time` → value. */
  type Samples = Map<string, number>;

  function sampleKey(name: string, labels: Record<string, string>, timeMs: number): string {
    const sorted = Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(',');
    return `${name}{${sorted}} @${timeMs}`;
  }

  /** VictoriaMetrics names a series `<measurement>_<field>`, tags become labels, booleans become 1/0. */
  function expectedSamples(points: readonly Point[]): Samples {
    const out: Samples = new Map();
    for (const p of points) {
      for (const [field, v] of Object.entries(p.fields)) out.set(sampleKey(`${p.measurement}_${field}`, p.tags, p.timeMs), Number(v));
    }
    return out;
  }

  function exportedSamples(lines: readonly ExportLine[]): Samples {
    const out: Samples = new Map();
    for (const { metric, values, timestamps } of lines) {
      const { __name__: name = '', ...labels } = metric;
      values.forEach((v, i) => out.set(sampleKey(name, labels, timestamps[i] as number), v));
    }
    return out;
  }

  beforeAll(async () => {
    vm = await startVictoriaMetrics();
    writer = createPointWriter({ backend: 'influx-v2', url: vm.url, org: 'riskgate', bucket: 'telemetry', token: 'ignored-by-vm' });
    await writer.start();
  });

  afterAll(async () => {
    await writer?.stop();
    await vm?.stop();
  });

  test('ping answers through /health', async () => {
    expect(await writer.ping()).toBe(true);
  });

  test('every point reads back with equal labels, values and ms timestamps', async () => {
    const points = fixture();
    await writeAll(writer, points);
    const expected = expectedSamples(points);
    let got: Samples = new Map();
    // Rows and new index entries become searchable after a short buffer delay.
    await waitFor(
      async () => {
        await fetch(`${vm.url}/internal/force_flush`);
        got = exportedSamples(await exportSeries());
        return got.size >= expected.size;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `${expected.size} samples in VictoriaMetrics` },
    );
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    // VictoriaMetrics stores a float as a decimal mantissa and exponent: 1/3 comes back as 0.333333333333.
    const off = [...expected].filter(([key, v]) => Math.abs((got.get(key) ?? Number.NaN) - v) > 1e-11 * Math.max(1, Math.abs(v)));
    expect(off).toEqual([]);
    expect([...expected.values()].filter((v) => !Number.isInteger(v)).length).toBeGreaterThan(0);
  });

  test('an unreachable server makes ping false and write reject (no internal retry, no silent drop)', async () => {
    const down = createPointWriter({ backend: 'influx-v2', url: 'http://127.0.0.1:1', org: 'o', bucket: 'b', token: 't' });
    await down.start();
    expect(await down.ping()).toBe(false);
    await expect(down.write(fixture().slice(0, 3))).rejects.toThrow(/ECONNREFUSED/);
    await down.stop();
  });

  test('a 4xx answer rejects the write with the status', async () => {
    // VictoriaMetrics answers 400 to a path it does not serve.
    const bad = createPointWriter({ backend: 'influx-v2', url: `${vm.url}/no-such-prefix`, org: 'o', bucket: 'b', token: 't' });
    await bad.start();
    await expect(bad.write(fixture().slice(0, 3))).rejects.toMatchObject({ statusCode: 400 });
    await bad.stop();
  });
});

describe('storage/influx writers and a failing server', () => {
  // A stub answering 503 to every write: the clients' own retries (influx pool: 2, influxdb-client: 5 with a
  // drop-oldest buffer) must be off, so exactly one request reaches the server and the batcher owns the retry.
  let server: Server;
  let url: string;
  let writes = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/write') || req.url?.startsWith('/api/v2/write')) writes++;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":"overloaded"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test.each([
    ['influx-v1', () => createPointWriter({ backend: 'influx-v1', url, database: 'db', createDatabase: false })],
    ['influx-v2', () => createPointWriter({ backend: 'influx-v2', url, org: 'o', bucket: 'b', token: 't' })],
  ])('%s sends a failing batch as one request, once, and rejects', async (_name, make) => {
    writes = 0;
    const writer = make();
    await writer.start();
    // 2500 points: more than influxdb-client's default batchSize (1000), whose overflow chunks it would send on its own.
    const big = Array.from({ length: 2500 }, (_, i): Point => ({ measurement: 'gas', tags: { tenant: 't', device: 'd' }, fields: { v: i }, timeMs: BASE_MS + i }));
    await expect(writer.write(big)).rejects.toThrow();
    await expect(writer.write(fixture().slice(0, 10))).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(writes).toBe(2);
    await writer.stop();
  });
});
