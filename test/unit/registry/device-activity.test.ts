import { afterEach, describe, expect, test } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import type { Reading } from '../../../src/pipeline/reading.js';
import { DeviceActivity } from '../../../src/registry/device-activity.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
// 2025-03-15 06:00 UTC: on a 15-minute bucket boundary.
const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

function reading(clock: FakeClock, deviceId = 'gas-1', ts = clock.now()): Reading {
  return { tenant: 't1', deviceId, kind: 'gas', channel: 'telemetry', ts, receivedAt: clock.now(), fields: { concentration_lel: 0 }, tags: {} };
}

describe('registry/device-activity', () => {
  let db: SqliteDb | undefined;
  afterEach(() => db?.close());

  test('counts readings per bucket of device time and remembers the gateway time last seen', () => {
    const clock = new FakeClock(T0);
    const a = new DeviceActivity({ clock });
    a.start();
    for (let i = 0; i < 24 * 60; i++) {
      a.accept(reading(clock)); // one a minute for a day
      clock.advance(MIN);
    }
    const now = clock.now();
    expect(a.lastSeen('t1', 'gas-1')).toBe(now - MIN);
    expect(a.lastSeen('t1', 'other')).toBeUndefined();
    expect(a.received('t1', 'gas-1', now - 24 * HOUR, now)).toBe(1440);
    expect(a.received('t1', 'gas-1', now - HOUR, now)).toBe(60);
    // A window starting mid-bucket counts that whole bucket (the stats align their window start the same way).
    expect(a.bucketStart(now - HOUR - 5 * MIN)).toBe(now - HOUR - 15 * MIN);
    expect(a.received('t1', 'gas-1', now - HOUR - 5 * MIN, now)).toBe(75);
  });

  test('a buffered upload counts in the period of its device time; a time ahead of the gateway counts now', () => {
    const clock = new FakeClock(T0 + 10 * HOUR);
    const a = new DeviceActivity({ clock });
    for (let m = 0; m < 60; m++) a.accept(reading(clock, 'gas-1', T0 + 2 * HOUR + m * MIN)); // an hour from 8 h ago, sent now
    a.accept(reading(clock, 'gas-1', clock.now() + 4 * MIN));
    expect(a.received('t1', 'gas-1', T0 + 2 * HOUR, T0 + 3 * HOUR - 1)).toBe(60);
    expect(a.received('t1', 'gas-1', clock.now(), clock.now())).toBe(1);
    expect(a.lastSeen('t1', 'gas-1')).toBe(clock.now());
  });

  test('counts older than the retention are dropped and slots reused a lap later start from zero', () => {
    const clock = new FakeClock(T0);
    const a = new DeviceActivity({ clock, options: { bucketMs: HOUR, retentionMs: 24 * HOUR } });
    a.accept(reading(clock));
    a.accept(reading(clock));
    clock.advance(25 * HOUR); // the slot of T0 comes round again
    a.accept(reading(clock));
    expect(a.received('t1', 'gas-1', T0, clock.now())).toBe(1);
    a.accept(reading(clock, 'gas-1', T0)); // older than the retention: nowhere to count it
    expect(a.received('t1', 'gas-1', T0, clock.now())).toBe(1);
    // Nothing for two days: queries still see nothing stale.
    clock.advance(48 * HOUR);
    expect(a.received('t1', 'gas-1', clock.now() - 24 * HOUR, clock.now())).toBe(0);
  });

  test('activity survives a restart through SQLite; forget() drops a device', () => {
    db = openSqlite(':memory:');
    const clock = new FakeClock(T0);
    const a = new DeviceActivity({ clock, db });
    a.start({ timers: false });
    for (let i = 0; i < 10; i++) a.accept(reading(clock, 'gas-1', T0 + i * MIN));
    a.accept(reading(clock, 'gas-2'));
    a.stop();
    const b = new DeviceActivity({ clock, db });
    b.start({ timers: false });
    expect(b.received('t1', 'gas-1', T0, T0 + HOUR)).toBe(10);
    expect(b.lastSeen('t1', 'gas-2')).toBe(T0);
    b.forget('t1', 'gas-2');
    const c = new DeviceActivity({ clock, db });
    c.start({ timers: false });
    expect(c.size).toBe(1);
    // Another bucket width: last-seen is kept, counts cannot be re-bucketed.
    const d = new DeviceActivity({ clock, db, options: { bucketMs: HOUR } });
    d.start({ timers: false });
    expect(d.lastSeen('t1', 'gas-1')).toBe(T0);
    expect(d.received('t1', 'gas-1', T0, T0 + HOUR)).toBe(0);
  });
});
