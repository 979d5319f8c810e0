import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MAX_GROUP_MESSAGES, MqttIngest } from '../../../src/ingest/mqtt/mqtt-ingest.js';
import { systemClock } from '../../../src/lib/clock.js';
import { createMetrics } from '../../../src/lib/metrics.js';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import { DeadLetterLog } from '../../../src/pipeline/dead-letters.js';
import { DEFAULT_INGEST_LIMITS, Pipeline } from '../../../src/pipeline/pipeline.js';
import { DeviceRegistry } from '../../../src/registry/device-registry.js';

// Issue 9 group commit (src/ingest/mqtt/mqtt-ingest.ts): the PUBACK of a message leaves only after the spool append
// (a sink's endMessage) that holds its points — observed at a real broker (aedes in process), which reports each
// PUBACK it receives.

describe('MQTT ingest group commit', () => {
  let dir: string;
  let db: SqliteDb;
  let aedes: Aedes;
  let server: Server;
  let url: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-group-'));
    db = openSqlite(join(dir, 'state.db'));
    aedes = await Aedes.createBroker();
    server = createServer((s) => aedes.handle(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(groupCommitMs: number, messages: number): Promise<{ log: string[]; accepted: number; commits: number[] }> {
    const registry = new DeviceRegistry(db);
    registry.start();
    registry.upsert([{ tenant: 't1', deviceId: 'gas-1', kind: 'gas', heartbeatS: 60, attrs: {} }]);
    // What happened, in order: 'a' = the broker got a PUBACK, 'c<n>' = the spool append of n accepted readings.
    const log: string[] = [];
    let open = 0;
    const commits: number[] = [];
    aedes.on('ack', (packet) => {
      if (packet && 'messageId' in packet) log.push('a');
    });
    const pipeline = new Pipeline({
      registry,
      metrics: createMetrics({ defaultMetrics: false }),
      deadLetters: new DeadLetterLog(100),
      clock: systemClock,
      limits: { ...DEFAULT_INGEST_LIMITS, maxMessagesPerDevicePerS: 1_000_000 },
      sinks: [
        {
          accept: () => void open++,
          endMessage: () => {
            log.push(`c${open}`);
            commits.push(open);
            open = 0;
          },
        },
      ],
    });
    const ingest = new MqttIngest({ url, clientId: `rg-group-${groupCommitMs}`, logger: pino({ level: 'silent' }), groupCommitMs }, pipeline);
    await ingest.start();
    closers.push(() => ingest.stop());
    const pub = await mqtt.connectAsync(url, { clientId: 'rg-group-pub', reconnectPeriod: 0 });
    closers.push(() => pub.endAsync());
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: messages }, (_, i) => pub.publishAsync('rg/v1/t1/gas/gas-1/telemetry', JSON.stringify({ ts: t0 - 60_000 + i, data: { concentration_lel: 1 } }), { qos: 1 })),
    );
    const deadline = Date.now() + 10_000;
    while (log.filter((e) => e === 'a').length < messages && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return { log, accepted: commits.reduce((s, n) => s + n, 0), commits };
  }

  /** Every PUBACK comes after a commit, and no more PUBACKs than readings committed so far. */
  function expectAcksAfterCommits(log: string[]): void {
    let committed = 0;
    let acked = 0;
    for (const e of log) {
      if (e === 'a') acked++;
      else committed += Number(e.slice(1));
      expect(acked).toBeLessThanOrEqual(committed);
    }
  }

  test.each([2, 0, 20])('groupCommitMs %i: all acknowledged, each after the spool append holding its message, in groups', async (ms) => {
    const { log, accepted, commits } = await run(ms, 3000);
    expect(log.filter((e) => e === 'a')).toHaveLength(3000);
    expect(accepted).toBe(3000);
    expectAcksAfterCommits(log);
    // Grouped: fewer appends than messages, none past the cap.
    expect(commits.length).toBeLessThan(3000);
    expect(Math.max(...commits)).toBeLessThanOrEqual(MAX_GROUP_MESSAGES);
  });
});
