import { afterEach, describe, expect, test } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import type { Reading } from '../../../src/pipeline/reading.js';
import { DeviceActivity } from '../../../src/registry/device-activity.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

function reading(clock: FakeClock, deviceId: string, ts = clock.now()): Reading {
  return { tenant: 't1', deviceId, kind: 'gas', channel: 'telemetry', ts, receivedAt: clock.now(), fields: {}, tags: {} };
}

describe('registry/device-activity counts (issue 9: narrow counts)', () => {
  let db: SqliteDb | undefined;
  afterEach(() => db?.close());

  test('counts stay exact however many readings a bucket takes, and survive a restart', () => {
    db = openSqlite(':memory:');
    const clock = new FakeClock(T0);
    const a = new DeviceActivity({ clock, db });
    a.start({ timers: false });
    // slow: 3 a bucket; minute: 15 a bucket (the most 4 bits hold); fast: 90; burst: 1000 in one bucket.
    const plan: Record<string, number> = { slow: 5 * MIN, minute: MIN, fast: 10_000 };
    for (let t = 0; t < 6 * 60 * MIN; t += 10_000) {
      clock.set(T0 + t);
      for (const [id, every] of Object.entries(plan)) if (t % every === 0) a.accept(reading(clock, id));
    }
    for (let n = 0; n < 1000; n++) a.accept(reading(clock, 'burst'));
    const now = clock.now();
    const window = (id: string) => [a.received('t1', id, T0, now), a.received('t1', id, a.bucketStart(now), now)];
    const before = { slow: window('slow'), minute: window('minute'), fast: window('fast'), burst: window('burst') };
    expect(before).toEqual({ slow: [72, 3], minute: [360, 15], fast: [2160, 90], burst: [1000, 1000] });
    a.stop();
    const b = new DeviceActivity({ clock, db });
    b.start({ timers: false });
    const after = { slow: [b.received('t1', 'slow', T0, now), b.received('t1', 'slow', b.bucketStart(now), now)], minute: [b.received('t1', 'minute', T0, now), b.received('t1', 'minute', a.bucketStart(now), now)], fast: [b.received('t1', 'fast', T0, now), b.received('t1', 'fast', a.bucketStart(now), now)], burst: [b.received('t1', 'burst', T0, now), b.received('t1', 'burst', a.bucketStart(now), now)] };
    expect(after).toEqual(before);
    // Stored as Uint16 per bucket, whatever the width in memory (the column's format is unchanged).
    const row = db.prepare("SELECT counts FROM device_activity WHERE device_id = 'slow'").get() as { counts: Buffer };
    expect(row.counts.byteLength).toBe(2 * (Math.ceil((7 * 86_400_000) / 900_000) + 1));
    b.stop();
  });

  test('a forgotten device leaves nothing behind for the next one', () => {
    const clock = new FakeClock(T0);
    const a = new DeviceActivity({ clock });
    a.start();
    for (let n = 0; n < 20; n++) a.accept(reading(clock, 'old'));
    a.forget('t1', 'old');
    a.accept(reading(clock, 'new'));
    expect([a.received('t1', 'old', T0, T0), a.received('t1', 'new', T0, T0), a.size]).toEqual([0, 1, 1]);
  });
});
