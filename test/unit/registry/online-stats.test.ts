import { describe, expect, test } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import type { Device } from '../../../src/registry/device-registry.js';
import { DeviceActivity } from '../../../src/registry/device-activity.js';
import { onlineStats } from '../../../src/registry/online-stats.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

const dev = (tenant: string, deviceId: string, kind: Device['kind'], region: string | undefined, heartbeatS: number, createdAt = T0): Device => ({ tenant, deviceId, kind, region, heartbeatS, attrs: {}, createdAt });

describe('registry/online-stats', () => {
  test('online = seen within k × heartbeat; completeness = Σ min(received, expected) / Σ expected', () => {
    const clock = new FakeClock(T0);
    const activity = new DeviceActivity({ clock });
    const devices = [
      dev('t1', 'a', 'gas', '510104', 60), // reports every minute for 24 h: complete, online
      dev('t1', 'b', 'gas', '510104', 60), // reports every 2 minutes, stops 5 minutes before the end: half, offline
      dev('t2', 'c', 'smoke', '510116', 3600), // hourly, but double-sends: capped at 100 %
      dev('t2', 'd', 'smoke', '510116', 3600, T0 + 18 * HOUR), // registered 6 h before the end, silent
      dev('t3', 'e', 'vehicle', undefined, 30), // never seen, no region
    ];
    for (let m = 0; m < 24 * 60; m++) {
      const now = clock.now();
      activity.accept({ tenant: 't1', deviceId: 'a', kind: 'gas', channel: 'telemetry', ts: now, receivedAt: now, fields: {}, tags: {} });
      if (m % 2 === 0 && m < 24 * 60 - 5) activity.accept({ tenant: 't1', deviceId: 'b', kind: 'gas', channel: 'telemetry', ts: now, receivedAt: now, fields: {}, tags: {} });
      if (m % 60 === 0) for (let k = 0; k < 2; k++) activity.accept({ tenant: 't2', deviceId: 'c', kind: 'smoke', channel: 'telemetry', ts: now, receivedAt: now, fields: {}, tags: {} });
      clock.advance(MIN);
    }
    const now = clock.now(); // T0 + 24 h
    const byTenant = onlineStats(devices, activity, { groupBy: 'tenant', now, windowMs: 24 * HOUR, heartbeatFactor: 2 });
    expect(byTenant.window_start).toBe(T0);
    expect(byTenant.rows).toEqual([
      // a: 1440 of 1440; b: 718 of 1440; b last seen 6 min ago > 2 × 60 s.
      { key: 't1', registered: 2, online: 1, online_rate: 0.5, expected_readings: 2880, received_readings: 2158, completeness: 0.7493 },
      // c: 48 received, 24 expected, credited 24; d: 6 expected, 0 received. c last seen 60 min ago ≤ 2 h.
      { key: 't2', registered: 2, online: 1, online_rate: 0.5, expected_readings: 30, received_readings: 48, completeness: 0.8 },
      { key: 't3', registered: 1, online: 0, online_rate: 0, expected_readings: 2880, received_readings: 0, completeness: 0 },
    ]);
    expect(byTenant.total).toEqual({ key: 'total', registered: 5, online: 2, online_rate: 0.4, expected_readings: 5790, received_readings: 2206, completeness: 0.3769 }); // (1440 + 718 + 24 + 0 + 0) / 5790

    const byRegion = onlineStats(devices, activity, { groupBy: 'region', regionLevel: 'city', now, windowMs: 24 * HOUR, heartbeatFactor: 2 });
    expect(byRegion.rows.map((r) => [r.key, r.registered, r.online])).toEqual([['5101', 4, 2], [null, 1, 0]]);
    const byKind = onlineStats(devices, activity, { groupBy: 'kind', now, windowMs: 24 * HOUR, heartbeatFactor: 10 });
    expect(byKind.rows.map((r) => [r.key, r.online])).toEqual([['gas', 2], ['smoke', 1], ['vehicle', 0]]);
  });

  test('a legacy six-digit city code rolls up with its canonical form', () => {
    const clock = new FakeClock(T0);
    const activity = new DeviceActivity({ clock });
    const rows = onlineStats([dev('t', 'x', 'gas', '510100', 60), dev('t', 'y', 'gas', '510104', 60)], activity, { groupBy: 'region', regionLevel: 'county', now: T0 + HOUR, windowMs: HOUR, heartbeatFactor: 2 }).rows;
    expect(rows.map((r) => r.key)).toEqual(['5101', '510104']);
    expect(rows[0]).toMatchObject({ expected_readings: 60, completeness: 0, online_rate: 0 });
  });

  test('no devices: rates are null, not NaN', () => {
    const s = onlineStats([], new DeviceActivity({ clock: new FakeClock(T0) }), { groupBy: 'tenant', now: T0, windowMs: HOUR, heartbeatFactor: 2 });
    expect(s.rows).toEqual([]);
    expect(s.total).toMatchObject({ registered: 0, online_rate: null, completeness: null });
  });
});
