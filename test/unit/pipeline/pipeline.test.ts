import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { createMetrics, type Metrics } from '../../../src/lib/metrics.js';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import { DeadLetterLog } from '../../../src/pipeline/dead-letters.js';
import { DEFAULT_INGEST_LIMITS, Pipeline } from '../../../src/pipeline/pipeline.js';
import type { Reading } from '../../../src/pipeline/reading.js';
import { DeviceRegistry } from '../../../src/registry/device-registry.js';

/** The per-device message limit (a flood is refused, a backlog is not) and how readings are marked. */
describe('pipeline', () => {
  let dir: string;
  let db: SqliteDb;
  let clock: FakeClock;
  let metrics: Metrics;
  let stored: Reading[];
  let pipeline: Pipeline;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rg-rate-'));
    db = openSqlite(join(dir, 'state.db'));
    const registry = new DeviceRegistry(db);
    registry.start();
    registry.upsert([
      { tenant: 't1', deviceId: 'gas-1', kind: 'gas', heartbeatS: 60, attrs: {} },
      { tenant: 't1', deviceId: 'truck-1', kind: 'vehicle', heartbeatS: 30, attrs: {} },
    ]);
    clock = new FakeClock();
    metrics = createMetrics({ defaultMetrics: false });
    stored = [];
    pipeline = new Pipeline({
      registry,
      metrics,
      deadLetters: new DeadLetterLog(100),
      clock,
      limits: { ...DEFAULT_INGEST_LIMITS, maxMessagesPerDevicePerS: 5 }, // bucket of 50
      sinks: [{ accept: (r) => stored.push(r) }],
    });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (ts: number) => pipeline.ingestMqtt('rg/v1/t1/gas/gas-1/telemetry', Buffer.from(JSON.stringify({ ts, data: { concentration_lel: 1 } })));
  const rateLimited = async () => (await metrics.readingsRejected.get()).values.find((v) => v.labels.reason === 'rate_limited')?.value ?? 0;

  test('a flood at one instant with barely moving device time is cut at the bucket (10 s worth)', async () => {
    const t0 = clock.now() - 60_000;
    for (let i = 0; i < 80; i++) send(t0 + i); // 1 ms apart in device time, all at the same gateway instant
    expect(stored).toHaveLength(50);
    expect(await rateLimited()).toBe(30);
  });

  test('a backlog redelivered at once — device time advancing at the device pace — is taken whole', async () => {
    // 600 messages queued at the broker for 10 minutes (one per second of device time) arrive in the same instant.
    const t0 = clock.now() - 600_000;
    for (let i = 0; i < 600; i++) send(t0 + i * 1000);
    expect(stored).toHaveLength(600);
    expect(await rateLimited()).toBe(0);
  });

  test('gateway time refills the bucket too: a steady device at the limit is never refused', async () => {
    for (let i = 0; i < 200; i++) {
      send(clock.now() - 5000); // the same device time over and over, but spaced 200 ms apart in gateway time
      clock.advance(200);
    }
    expect(stored).toHaveLength(200);
    expect(await rateLimited()).toBe(0);
  });

  test('a vehicle reading marked backfill (blind-area re-upload) is history whatever its age, over MQTT too', () => {
    const now = clock.now();
    const send2 = (data: Record<string, unknown>) =>
      pipeline.ingestMqtt('rg/v1/t1/vehicle/truck-1/telemetry', Buffer.from(JSON.stringify({ ts: now - 30_000, data: { lat: 30.6, lon: 104.06, speed_kmh: 50, ...data } })));
    send2({ backfill: true });
    send2({});
    expect(stored.map((r) => r.historical === true)).toEqual([true, false]);
  });
});

describe('pipeline group commit (issue 9)', () => {
  test('deferred messages end at commit(); a message taken meanwhile without deferCommit ends them with it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-commit-'));
    const db = openSqlite(join(dir, 'state.db'));
    try {
      const registry = new DeviceRegistry(db);
      registry.start();
      registry.upsert([{ tenant: 't1', deviceId: 'gas-1', kind: 'gas', heartbeatS: 60, attrs: {} }]);
      const log: string[] = [];
      const clock = new FakeClock();
      const pipeline = new Pipeline({
        registry,
        metrics: createMetrics({ defaultMetrics: false }),
        deadLetters: new DeadLetterLog(100),
        clock,
        limits: { ...DEFAULT_INGEST_LIMITS, maxMessagesPerDevicePerS: 1000 },
        sinks: [{ accept: () => void log.push('accept'), holdCommit: () => void log.push('hold'), endMessage: () => void log.push('end') }],
      });
      let ts = clock.now() - 60_000;
      const send = (deferCommit: boolean, lel = 1) => pipeline.ingestMqtt('rg/v1/t1/gas/gas-1/telemetry', Buffer.from(JSON.stringify({ ts: ts++, data: { concentration_lel: lel } })), { deferCommit });
      send(true);
      send(true);
      expect(log).toEqual(['hold', 'accept', 'hold', 'accept']);
      pipeline.commit();
      expect(log.slice(4)).toEqual(['end']);
      pipeline.commit(); // nothing pending
      expect(log).toHaveLength(5);
      send(true);
      send(false); // e.g. an HTTP message: ends its own and the deferred one's points
      expect(log.slice(5)).toEqual(['hold', 'accept', 'accept', 'end']);
      pipeline.commit();
      expect(log).toHaveLength(9);
      // A rejected deferred message leaves nothing to commit.
      pipeline.ingestMqtt('rg/v1/t1/gas/gas-1/telemetry', Buffer.from('{not json'), { deferCommit: true });
      pipeline.commit();
      expect(log).toHaveLength(9);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
