import { expect, test } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import type { Reading } from '../../../src/pipeline/reading.js';
import { DeviceActivity } from '../../../src/registry/device-activity.js';

// Jt808Ingest tells DeviceActivity about a heartbeat with a field-less reading at device time 0: last-seen (the online
// rate) must move, the received counts (data completeness) must not. This pins the DeviceActivity behaviour it relies on.

const reading = (ts: number, receivedAt: number): Reading => ({ tenant: 't', deviceId: 'v', kind: 'vehicle', channel: 'status', ts, receivedAt, fields: {}, tags: {} });

test('a reading at device time 0 moves last-seen without counting as received', () => {
  const clock = new FakeClock(Date.UTC(2025, 2, 15, 4));
  const a = new DeviceActivity({ clock });
  const now = clock.now();
  // A heartbeat before any location, then a location, then heartbeats.
  a.accept(reading(0, now));
  expect(a.lastSeen('t', 'v')).toBe(now);
  a.accept(reading(now + 1000, now + 1000));
  a.accept(reading(0, now + 30_000));
  a.accept(reading(0, now + 60_000));
  expect(a.lastSeen('t', 'v')).toBe(now + 60_000);
  expect(a.received('t', 'v', now - 86_400_000, now + 60_000)).toBe(1);
});
