import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { Jt808Server, MemoryAuthCodeStore, type Jt808LocationMeta, type Jt808RefusalReason, type VehiclePayload } from '../../../src/ingest/jt808/index.js';
import { systemClock } from '../../../src/lib/clock.js';
import { Jt808Terminal } from '../../../src/sim/jt808-terminal.js';

// The simulated terminal (src/sim/jt808-terminal.ts) against a bare Jt808Server: the hooks the gateway relies on.

let server: Jt808Server | undefined;
let terminal: Jt808Terminal | undefined;
afterEach(async () => {
  terminal?.close();
  await server?.stop();
});

async function setup(opts: { accepting?: () => boolean } = {}) {
  const locations: { payload: VehiclePayload; meta: Jt808LocationMeta }[] = [];
  const heartbeats: string[] = [];
  const refusals: Jt808RefusalReason[] = [];
  server = new Jt808Server({
    findTerminal: (q) => (q.by === 'phone' && q.phone === '13912345678' ? { tenant: 't', deviceId: '013912345678' } : undefined),
    authCodes: new MemoryAuthCodeStore(),
    onLocation: (_t, _d, payload, meta) => locations.push({ payload, meta }),
    onHeartbeat: (_t, deviceId) => heartbeats.push(deviceId),
    accepting: opts.accepting,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    metrics: { refused: (r) => refusals.push(r) },
    options: { host: '127.0.0.1', port: 0, stopGraceMs: 100 },
  });
  await server.start();
  terminal = new Jt808Terminal({ host: '127.0.0.1', port: server.port, phone: '13912345678', version: 2019, replyTimeoutMs: 3000 });
  await terminal.connect();
  await terminal.login();
  return { locations, heartbeats, refusals, t: terminal, s: server };
}

describe('jt808 simulator ↔ server', () => {
  test('login, a location along the route, a heartbeat reaching onHeartbeat', async () => {
    const { locations, heartbeats, t } = await setup();
    const at = Math.floor(Date.now() / 1000) * 1000;
    t.raiseAlarm(1 << 3);
    expect(await t.reportLocation({ at })).toEqual({ seq: 2, result: 0 });
    expect(locations[0]?.payload).toMatchObject({ ts: at, seq: 2, data: { alarm_bits: 8, speed_kmh: 60, acc_on: true, located: true, satellites: 12 } });
    expect(locations[0]?.meta).toMatchObject({ history: false, phone: '13912345678', msgId: 0x0200 });
    expect(await t.heartbeat()).toBe(0);
    expect(heartbeats).toEqual(['013912345678']);
  });

  test('a 60-point blind-area batch goes subpackaged and arrives as 60 history points', async () => {
    const { locations, t } = await setup();
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const points = Array.from({ length: 60 }, (_, i) => ({ at: t0 + i * 10_000, speedKmh: 30 + i }));
    expect((await t.reportBatch(points)).result).toBe(0);
    expect(locations).toHaveLength(60);
    expect(locations.every((l) => l.meta.history && l.payload.data.backfill === true)).toBe(true);
    expect(locations.map((l) => l.payload.ts)).toEqual(points.map((p) => p.at));
  });

  test('while the gateway takes no locations they are answered 1 and counted as backpressure', async () => {
    let open = false;
    const { locations, refusals, t } = await setup({ accepting: () => open });
    expect((await t.reportLocation()).result).toBe(1);
    expect((await t.reportBatch([{}])).result).toBe(1);
    expect(refusals).toEqual(['backpressure', 'backpressure']);
    expect(locations).toHaveLength(0);
    open = true;
    expect((await t.reportLocation()).result).toBe(0);
    expect(locations).toHaveLength(1);
  });

  test('0x8203: the terminal clears the confirmed bits and answers 0x0001', async () => {
    const { t, s } = await setup();
    t.raiseAlarm((1 << 0) | (1 << 1));
    const { seq } = await t.reportLocation();
    expect(s.sendManualAlarmConfirmation('013912345678', seq, 1)).toBe(true);
    const m = await t.waitForMessage((x) => x.body.type === 'manual_alarm_confirmation', 3000);
    expect(m.body).toMatchObject({ alarmSerial: seq, alarmType: 1 });
    expect(t.alarmBits).toBe(2);
  });

  test('advance() moves along the route at the set speed', () => {
    const t = new Jt808Terminal({ host: '127.0.0.1', port: 1, phone: '1', route: [[30, 104], [30.1, 104]], speedKmh: 36 });
    const start = t.position();
    t.advance(100_000); // 36 km/h × 100 s = 1 km north
    const p = t.position();
    expect(p.headingDeg).toBe(0);
    expect((p.lat - start.lat) * 111.32).toBeCloseTo(1, 2);
  });
});
