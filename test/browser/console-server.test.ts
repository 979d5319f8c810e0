import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { telemetryReaderFor } from '../../src/api/telemetry-routes.js';
import { InfluxV1PointWriter } from '../../src/storage/influx-v1.js';
import type { Point } from '../../src/storage/point.js';
import { startInfluxd, waitFor, type RunningService } from '../helpers/services.js';
import { connectPublisher, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// What the browser tests rely on, checked without a browser: how the console is served, and the telemetry routes.

let gw: TestGateway;
let pub: MqttClient;
const T0 = Date.now() - 60_000;

describe('console routes', () => {
  beforeAll(async () => {
    gw = await startTestGateway();
    pub = await connectPublisher(gw.mqttUrl);
    for (let i = 0; i < 5; i++) await pub.publishAsync('rg/v1/t1/gas/gas-1/telemetry', JSON.stringify({ ts: T0 + i * 1000, data: { gas_type: 'CH4', concentration_lel: 5 + i } }), { qos: 1 });
    await pub.publishAsync('rg/v1/t3/vehicle/013912345678/telemetry', JSON.stringify({ ts: T0, data: { lat: 30.6, lon: 104.0, speed_kmh: 30 } }), { qos: 1 });
    await pub.publishAsync('rg/v1/t3/vehicle/013912345678/telemetry', JSON.stringify({ ts: T0 + 5000, data: { lat: 30.61, lon: 104.01, speed_kmh: 35 } }), { qos: 1 });
    await waitFor(async () => ((await gw.api('GET', '/api/v1/devices/t1/gas-1/telemetry')).json.points as unknown[]).length === 5, { timeoutMs: 5000, intervalMs: 50, what: 'readings stored' });
  });
  afterAll(async () => {
    await pub?.endAsync();
    await gw?.stop();
  });

  test('the page and its files are served without a token, under a CSP that allows only the gateway itself', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/console/js/main.js', 'application/javascript'],
      ['/console/css/console.css', 'text/css'],
      ['/console/vendor/uplot/uPlot.esm.js', 'application/javascript'],
      ['/console/vendor/uplot/uPlot.min.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${gw.httpUrl}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("connect-src 'self'");
      // Over plain http on a LAN this would send the browser to https for the page's own scripts.
      expect(csp, path).not.toContain('upgrade-insecure-requests');
      expect(res.headers.get('cache-control'), path).toMatch(/no-cache|max-age=86400/);
      expect(res.headers.get('etag'), path).toBeTruthy();
    }
    const html = await (await fetch(`${gw.httpUrl}/`)).text();
    expect(html).not.toMatch(/<script>|\son\w+="|style="|https?:\/\//);
    // The API keeps helmet's policy.
    expect((await fetch(`${gw.httpUrl}/api/v1/alerts`)).headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
  });

  test('nothing outside the console folder and the two uPlot files is served', async () => {
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/vendor/uplot/uPlot.cjs.js', '/console/vendor/uplot/../package.json', '/console/', '/console/nope.js']) {
      expect((await fetch(`${gw.httpUrl}${path}`)).status, path).toBe(404);
    }
  });

  test("a device's recent telemetry: oldest first, newest `limit`, with units and labels", async () => {
    const all = await gw.api('GET', `/api/v1/devices/t1/gas-1/telemetry?since=${T0}`);
    expect(all.status).toBe(200);
    expect(all.json).toMatchObject({ tenant: 't1', device_id: 'gas-1', kind: 'gas', since: T0 });
    expect((all.json.fields as Record<string, unknown>).concentration_lel).toEqual({ unit: '%LEL', label: '气体浓度' });
    const points = all.json.points as { ts: number; fields: Record<string, number>; tags: Record<string, string> }[];
    expect(points.map((p) => [p.ts, p.fields.concentration_lel])).toEqual([0, 1, 2, 3, 4].map((i) => [T0 + i * 1000, 5 + i]));
    expect(points[0]?.tags).toMatchObject({ gas_type: 'CH4', region: '510104', site: 'kitchen' });

    const newest = await gw.api('GET', `/api/v1/devices/t1/gas-1/telemetry?since=${new Date(T0 + 1000).toISOString()}&limit=2`);
    expect((newest.json.points as { ts: number }[]).map((p) => p.ts)).toEqual([T0 + 3000, T0 + 4000]);

    expect((await gw.api('GET', '/api/v1/devices/t1/gas-1/telemetry?since=yesterday')).status).toBe(400);
    expect((await gw.api('GET', '/api/v1/devices/t1/gas-1/telemetry?limit=0')).status).toBe(400);
    expect((await gw.api('GET', '/api/v1/devices/t1/no-such/telemetry')).status).toBe(404);
  });

  test('telemetry is scoped like the registry: out of scope answers 404, device tokens 403, no token 401', async () => {
    const tokens = gw.gateway.tokens;
    const t2 = tokens.create({ name: 'ent-t2', role: 'enterprise', tenant: 't2', createdBy: 'test' }).token;
    const t1 = tokens.create({ name: 'ent-t1', role: 'enterprise', tenant: 't1', createdBy: 'test' }).token;
    const elsewhere = tokens.create({ name: 'op-510116', role: 'operator', regions: ['510116'], createdBy: 'test' }).token;
    const chengdu = tokens.create({ name: 'op-5101', role: 'operator', regions: ['5101'], createdBy: 'test' }).token;
    const device = tokens.create({ name: 'dev', role: 'device', tenant: 't1', deviceId: 'gas-1', createdBy: 'test' }).token;
    const path = `/api/v1/devices/t1/gas-1/telemetry?since=${T0}`;
    expect((await gw.api('GET', path, undefined, { token: t1 })).status).toBe(200);
    expect((await gw.api('GET', path, undefined, { token: chengdu })).status).toBe(200);
    expect((await gw.api('GET', path, undefined, { token: t2 })).status).toBe(404);
    expect((await gw.api('GET', path, undefined, { token: elsewhere })).status).toBe(404);
    expect((await gw.api('GET', path, undefined, { token: device })).status).toBe(403);
    expect((await fetch(`${gw.httpUrl}${path}`)).status).toBe(401);

    const latest = '/api/v1/telemetry/latest?kind=vehicle';
    const seen = await gw.api('GET', `${latest}&since=${T0}`, undefined, { token: chengdu });
    expect(seen.json.devices).toEqual([
      expect.objectContaining({ tenant: 't3', device_id: '013912345678', ts: T0 + 5000, fields: expect.objectContaining({ lat: 30.61, lon: 104.01, speed_kmh: 35 }), attrs: expect.objectContaining({ plate: '川A12345' }) }),
    ]);
    expect((await gw.api('GET', `${latest}&since=${T0}`, undefined, { token: t1 })).json.devices).toEqual([]);
    expect((await gw.api('GET', `${latest}&since=${T0 + 6000}`, undefined, { token: chengdu })).json.devices).toEqual([]);
  });
});

describe('telemetry reader on InfluxDB 1.x', () => {
  let influxd: RunningService;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  test('reads what the influx-v1 writer wrote: newest points of a device, newest point per device', async () => {
    const store = { backend: 'influx-v1' as const, url: influxd.url, database: 'rg_console' };
    const writer = new InfluxV1PointWriter(store);
    await writer.start();
    const base = Date.now() - 600_000;
    const points: Point[] = [];
    for (let i = 0; i < 6; i++) {
      points.push({ measurement: 'vehicle', tags: { tenant: 't3', device: 'v1', region: '510100' }, fields: { lat: 30 + i / 100, lon: 104, speed_kmh: i * 10, acc_on: true }, timeMs: base + i * 1000 });
      points.push({ measurement: 'vehicle', tags: { tenant: "o'brien", device: 'v2' }, fields: { lat: 31, lon: 105 - i / 100 }, timeMs: base + i * 1000 + 1 });
    }
    await writer.write(points);
    const reader = telemetryReaderFor(store);
    const recent = await reader.recent({ measurement: 'vehicle', tenant: 't3', device: 'v1', sinceMs: base + 1000, limit: 3 });
    expect(recent.map((p) => [p.timeMs, p.fields.speed_kmh])).toEqual([
      [base + 5000, 50],
      [base + 4000, 40],
      [base + 3000, 30],
    ]);
    expect(recent[0]).toMatchObject({ tags: { tenant: 't3', device: 'v1', region: '510100' }, fields: { acc_on: true } });
    // A quote in a tag value is escaped, not injected.
    expect((await reader.recent({ measurement: 'vehicle', tenant: "o'brien", device: 'v2', sinceMs: base, limit: 10 })).length).toBe(6);

    const latest = (await reader.latest({ measurement: 'vehicle', sinceMs: base })).sort((a, b) => (a.tags.device as string).localeCompare(b.tags.device as string));
    expect(latest.map((p) => [p.tags.tenant, p.tags.device, p.timeMs, p.fields.lat])).toEqual([
      ['t3', 'v1', base + 5000, 30.05],
      ["o'brien", 'v2', base + 5001, 31],
    ]);
    reader.close();
    await writer.stop();
  });
});
