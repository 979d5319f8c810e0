import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { MSG } from '../../src/ingest/jt808/index.js';
import type { Point } from '../../src/storage/point.js';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { Jt808Terminal } from '../../src/sim/jt808-terminal.js';
import { REPO_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// The JT/T 808 server wired into a real gateway (docs/jt808.md "Wiring"): terminals simulated by src/sim/jt808-terminal.ts.

const FLEET = 'jt808-fleet';
/** Tenant whose vehicle.offline rule is overridden to 2 s, for the heartbeat-timeout test. */
const IDLE = 'jt808-idle';

const SEED = `# Vehicles of the JT/T 808 gateway test.
devices:
  # device id = the 2013 header phone: found by phone.
  - { tenant: ${FLEET}, device_id: "013800000001", kind: vehicle, region: "510100", heartbeat_s: 30, attrs: { plate: 川A80801, vehicle_class: hazmat } }
  # device id is not a phone: found by attrs.jt808_phone.
  - { tenant: ${FLEET}, device_id: veh-chuanA-D1234, kind: vehicle, region: "510100", heartbeat_s: 30, attrs: { jt808_phone: "13800000002", plate: 川A·D1234, vehicle_class: hazmat } }
  # neither: found by the 0x0100 terminal id.
  - { tenant: ${FLEET}, device_id: coach-7, kind: vehicle, region: "510100", heartbeat_s: 30, attrs: { terminal_id: TC00007, plate: 川A77777, vehicle_class: coach } }
  # for the blind-area batch: never reports live.
  - { tenant: ${FLEET}, device_id: "013800000004", kind: vehicle, region: "510100", heartbeat_s: 30, attrs: { vehicle_class: hazmat } }
  # for the 0x8203 flow.
  - { tenant: ${FLEET}, device_id: "013800000005", kind: vehicle, region: "510100", heartbeat_s: 30, attrs: { vehicle_class: hazmat } }
  - { tenant: ${IDLE}, device_id: "013800000009", kind: vehicle, region: "510100", heartbeat_s: 1, attrs: { vehicle_class: truck } }
`;

const OVERRIDE = `overrides:
  - rule: vehicle.offline
    tenant: ${IDLE}
    set: { floor: 2s, heartbeat_factor: 1 }
`;

let dir: string;
let gw: TestGateway;
let port: number;
const terminals: Jt808Terminal[] = [];

function terminal(phone: string, opts: Partial<ConstructorParameters<typeof Jt808Terminal>[0]> = {}, target = { gw: () => gw, port: () => port }): Jt808Terminal {
  const t = new Jt808Terminal({ host: '127.0.0.1', port: target.port(), phone, replyTimeoutMs: 5000, ...opts });
  terminals.push(t);
  return t;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function points(g: TestGateway, tenant: string, device: string): Point[] {
  return (g.gateway.writer as SqlitePointWriter).query({ measurement: 'vehicle', tenant, device });
}

async function alertsOf(g: TestGateway, deviceId: string): Promise<Alert[]> {
  const res = await g.api('GET', `/api/v1/alerts?device_id=${encodeURIComponent(deviceId)}&limit=1000`);
  expect(res.status).toBe(200);
  return res.json.alerts as Alert[];
}

/** A counter or gauge of the gateway's registry, summed over the series matching `labels`. */
async function metric(g: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = g.gateway.metrics.registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const got = await m.get();
  return got.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

/** Whole seconds (BCD times carry no milliseconds), `s` seconds before now. */
const ago = (s: number): number => Math.floor(Date.now() / 1000) * 1000 - s * 1000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rg-jt808-gw-'));
  writeFileSync(join(dir, 'devices.yaml'), SEED);
  cpSync(join(REPO_ROOT, 'alert-rules'), join(dir, 'rules'), { recursive: true });
  writeFileSync(join(dir, 'rules/overrides/jt808-test.yaml'), OVERRIDE);
  gw = await startTestGateway({ REGISTRY_SEED: join(dir, 'devices.yaml'), RULES_DIR: join(dir, 'rules'), RULES_HOT_RELOAD: 'false' });
  port = gw.gateway.jt808Port as number;
});

afterAll(async () => {
  for (const t of terminals) t.close();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('JT/T 808 terminals through the gateway', () => {
  test('the server listens on a free port (JT808_PORT=0), and /readyz does not depend on it', async () => {
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`${gw.httpUrl}/readyz`)).status).toBe(200);
  });

  test('a JT808_PORT already in use fails the start with a clear configuration error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rg-jt808-taken-'));
    try {
      await expect(startTestGateway({ REGISTRY_SEED: join(dir, 'devices.yaml'), JT808_PORT: String(port) }, { dataDir })).rejects.toThrow(
        /JT\/T 808 server cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\): set JT808_HOST \/ JT808_PORT, or JT808_ENABLED=false/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('register → authenticate → locations are stored and evaluated: platform overspeed and the terminal overspeed bit raise live alerts', async () => {
    const t = terminal('13800000001', { plate: '川A80801' });
    await t.connect();
    await t.login();
    expect(gw.gateway.jt808?.onlinePhone(FLEET, '013800000001')).toBe('13800000001');
    // 95 km/h for 20 s of device time: over the hazmat limit (80) longer than vehicle.overspeed's `for: 10s`.
    for (const s of [20, 10, 0]) expect((await t.reportLocation({ at: ago(s), speedKmh: 95 })).result).toBe(0);
    t.raiseAlarm(1 << 1); // 超速报警, the terminal's own judgement
    expect((await t.reportLocation({ at: ago(-1), speedKmh: 96 })).result).toBe(0);

    const stored = await waitFor('4 stored points', () => {
      const p = points(gw, FLEET, '013800000001');
      return p.length === 4 ? p : undefined;
    });
    expect(stored.map((p) => p.fields.speed_kmh)).toEqual([95, 95, 95, 96]);
    expect(stored[3]?.fields).toMatchObject({ alarm_bits: 2, acc_on: true, located: true, satellites: 12 });
    expect(stored[0]?.fields.lat).toBeCloseTo(30.6574, 3);
    expect(stored[0]?.fields.backfill).toBeUndefined();

    const alerts = await waitFor('overspeed alerts', async () => {
      const a = await alertsOf(gw, '013800000001');
      return a.some((x) => x.rule_id === 'vehicle.overspeed') && a.some((x) => x.rule_id === 'vehicle.alarm_overspeed') ? a : undefined;
    });
    for (const id of ['vehicle.overspeed', 'vehicle.alarm_overspeed']) expect(alerts.find((x) => x.rule_id === id)).toMatchObject({ historical: false, condition: 'active', level: 3 });
    expect(await metric(gw, 'riskgate_jt808_locations_total', { type: 'live' })).toBeGreaterThanOrEqual(4);
    expect(await metric(gw, 'riskgate_jt808_frames_total', { msg_id: '0x0200' })).toBeGreaterThanOrEqual(4);
  });

  test('a terminal is found by attrs.jt808_phone (2019 header) and by its 0x0100 terminal id', async () => {
    const byPhone = terminal('13800000002', { version: 2019, plate: '川AD1234' });
    await byPhone.connect();
    await byPhone.login();
    expect((await byPhone.reportLocation({ at: ago(0) })).result).toBe(0);
    const byId = terminal('13900000007', { terminalId: 'TC00007', plate: '' });
    await byId.connect();
    await byId.login();
    expect((await byId.reportLocation({ at: ago(0) })).result).toBe(0);
    await waitFor('points of both', () => points(gw, FLEET, 'veh-chuanA-D1234').length === 1 && points(gw, FLEET, 'coach-7').length === 1);
    // An unknown terminal with no plate is refused 4 (数据库中无该终端).
    const stranger = terminal('13999999999', { terminalId: 'NOPE000' });
    await stranger.connect();
    expect((await stranger.register()).result).toBe(4);
  });

  test('a 0x0704 blind-area batch younger than the history cut-off is stored with backfill and evaluated as history: no live alert', async () => {
    const t = terminal('13800000004');
    await t.connect();
    await t.login();
    const sos = 1 << 0;
    // Two minutes old (RULE_HISTORY_CUTOFF_MS is 10 min): only the batch type makes it history.
    const batch = [120, 110, 100].map((s) => ({ at: ago(s), speedKmh: 50, alarmBits: sos }));
    expect((await t.reportBatch(batch, { blindArea: true })).result).toBe(0);
    const stored = await waitFor('3 backfilled points', () => {
      const p = points(gw, FLEET, '013800000004');
      return p.length === 3 ? p : undefined;
    });
    for (const p of stored) expect(p.fields).toMatchObject({ backfill: true, alarm_bits: 1 });
    const alerts = await waitFor('a historical emergency alert', async () => {
      const a = await alertsOf(gw, '013800000004');
      return a.some((x) => x.rule_id === 'vehicle.alarm_emergency') ? a : undefined;
    });
    const emergency = alerts.filter((x) => x.rule_id === 'vehicle.alarm_emergency');
    expect(emergency).toHaveLength(1);
    expect(emergency[0]).toMatchObject({ historical: true, level: 1 });
    expect(alerts.filter((x) => !x.historical)).toEqual([]);
    expect(await metric(gw, 'riskgate_jt808_locations_total', { type: 'history' })).toBe(3);
  });

  test('acknowledging an emergency alert sends 0x8203 with the alarm serial; the terminal clears bit 0 and the alert clears', async () => {
    const t = terminal('13800000005');
    await t.connect();
    await t.login();
    expect((await t.reportLocation({ at: ago(5), speedKmh: 40 })).result).toBe(0);
    t.raiseAlarm((1 << 0) | (1 << 1)); // SOS (ack-clear) and overspeed (held)
    const { seq } = await t.reportLocation({ at: ago(4), speedKmh: 40 });
    const alerts = await waitFor('the emergency alert', async () => {
      const a = await alertsOf(gw, '013800000005');
      return a.some((x) => x.rule_id === 'vehicle.alarm_emergency') && a.some((x) => x.rule_id === 'vehicle.alarm_overspeed') ? a : undefined;
    });
    const emergency = alerts.find((x) => x.rule_id === 'vehicle.alarm_emergency') as Alert;
    expect(emergency).toMatchObject({ level: 1, historical: false, condition: 'active' });

    // A held alarm (bit 1) is not confirmed: no 0x8203.
    const overspeed = alerts.find((x) => x.rule_id === 'vehicle.alarm_overspeed') as Alert;
    expect((await gw.api('POST', `/api/v1/alerts/${overspeed.id}/ack`, { note: '已提醒驾驶员减速' })).status).toBe(200);
    await expect(t.waitForMessage((m) => m.body.type === 'manual_alarm_confirmation', 500)).rejects.toThrow(/no matching platform message/);

    expect((await gw.api('POST', `/api/v1/alerts/${emergency.id}/ack`, { note: '已电话联系驾驶员，确认安全' })).status).toBe(200);
    const msg = await t.waitForMessage((m) => m.body.type === 'manual_alarm_confirmation', 5000);
    expect(msg.header.msgId).toBe(MSG.MANUAL_ALARM_CONFIRMATION);
    expect(msg.body).toEqual({ type: 'manual_alarm_confirmation', alarmSerial: seq, alarmType: 1 });
    expect(t.alarmBits).toBe(1 << 1); // the simulated terminal cleared bit 0 only

    expect((await t.reportLocation({ at: ago(0), speedKmh: 40 })).result).toBe(0);
    await waitFor('the emergency alert cleared', async () => ((await gw.api('GET', `/api/v1/alerts/${emergency.id}`)).json.alert as Alert | undefined)?.condition === 'cleared');
    expect(await metric(gw, 'riskgate_jt808_alarm_confirmations_total', { outcome: 'sent' })).toBe(1);
  });

  test('an ack-clear alarm acknowledged while the terminal is offline is confirmed when it is back', async () => {
    const t = terminal('13800000001');
    await t.connect();
    await t.login();
    t.alarmBits = 1 << 3; // 危险预警 (ack-clear in 2013)
    expect((await t.reportLocation({ at: ago(-2), speedKmh: 40 })).result).toBe(0);
    const alert = await waitFor('the danger-warning alert', async () => (await alertsOf(gw, '013800000001')).find((x) => x.rule_id === 'vehicle.alarm_danger_warning'));
    expect(alert).toMatchObject({ level: 2, historical: false });
    t.close();
    await waitFor('the session gone', () => gw.gateway.jt808?.onlinePhone(FLEET, '013800000001') === undefined);
    expect((await gw.api('POST', `/api/v1/alerts/${alert.id}/ack`, {})).status).toBe(200);
    expect(await metric(gw, 'riskgate_jt808_alarm_confirmations_total', { outcome: 'queued' })).toBe(1);

    const back = terminal('13800000001', { authCode: t.authCode });
    back.alarmBits = 1 << 3;
    await back.connect();
    expect(await back.authenticate()).toBe(0);
    const msg = await back.waitForMessage((m) => m.body.type === 'manual_alarm_confirmation', 5000);
    expect(msg.body).toEqual({ type: 'manual_alarm_confirmation', alarmSerial: 0, alarmType: 1 << 3 });
    expect(back.alarmBits).toBe(0);
  });

  test('a connection sending garbage is closed and counted', async () => {
    const before = await metric(gw, 'riskgate_jt808_connections_closed_total', { reason: 'decode_errors' });
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // Frames with a bad checksum (and one bad escape): each a decode error; 5 in a row close the connection.
    for (let i = 0; i < 6; i++) socket.write(Buffer.from(i === 3 ? '7e0002007d03aa7e' : '7e000200000139123456780001ff7e', 'hex'));
    await closed;
    await waitFor('the close counted', async () => (await metric(gw, 'riskgate_jt808_connections_closed_total', { reason: 'decode_errors' })) === before + 1);
    expect(await metric(gw, 'riskgate_jt808_decode_errors_total', { reason: 'bad_checksum' })).toBeGreaterThanOrEqual(4);
    expect(await metric(gw, 'riskgate_jt808_decode_errors_total', { reason: 'bad_escape' })).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^riskgate_jt808_connections_closed_total\{reason="decode_errors"\} [1-9]/m);
  });
});

describe('JT/T 808 heartbeats and the offline rule', () => {
  let idle: TestGateway;
  let idlePort: number;
  const target = { gw: () => idle, port: () => idlePort };

  beforeAll(async () => {
    idle = await startTestGateway({ REGISTRY_SEED: join(dir, 'devices.yaml'), RULES_DIR: join(dir, 'rules'), RULES_HOT_RELOAD: 'false', JT808_HEARTBEAT_TIMEOUT_MS: '1500' });
    idlePort = idle.gateway.jt808Port as number;
  });
  afterAll(async () => {
    await idle?.stop();
  });

  const activeOffline = async (): Promise<Alert | undefined> =>
    (await alertsOf(idle, '013800000009')).find((a) => a.rule_id === 'vehicle.offline' && a.condition === 'active' && !a.historical);

  test('heartbeats keep a terminal online; their timeout closes the session and the device goes offline; a new login clears it', async () => {
    const t = terminal('13800000009', {}, target);
    await t.connect();
    await t.login();
    expect((await t.reportLocation({ at: ago(0) })).result).toBe(0);
    await waitFor('no active offline alert', async () => ((await activeOffline()) === undefined ? true : undefined));
    // 4 s of heartbeats only, twice the overridden offline window (2 s): still online.
    for (let i = 0; i < 8; i++) {
      expect(await t.heartbeat()).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await activeOffline()).toBeUndefined();
    expect(await metric(idle, 'riskgate_jt808_sessions_online')).toBe(1);

    // Silence: the server closes the session after JT808_HEARTBEAT_TIMEOUT_MS, the offline rule fires.
    const silentFrom = Date.now();
    await t.waitClosed(6000);
    // The server counts the close once its side of the socket has closed too.
    await waitFor('the close counted', async () => (await metric(idle, 'riskgate_jt808_connections_closed_total', { reason: 'heartbeat_timeout' })) === 1);
    expect(await metric(idle, 'riskgate_jt808_sessions_online')).toBe(0);
    expect(idle.gateway.jt808?.onlinePhone(IDLE, '013800000009')).toBeUndefined();
    const offline = await waitFor('the offline alert', activeOffline);
    expect(offline.created_at).toBeGreaterThanOrEqual(silentFrom);

    // The terminal comes back with its stored code: authentication alone is a sign of life.
    const back = terminal('13800000009', { authCode: t.authCode }, target);
    await back.connect();
    expect(await back.authenticate()).toBe(0);
    await waitFor('the offline alert cleared', async () => ((await activeOffline()) === undefined ? true : undefined));
    expect((await fetch(`${idle.httpUrl}/readyz`)).status).toBe(200);
  });
});
