// Issue 5 item 3: the external Mosquitto is stopped for a few seconds and started again (persistence on) while
// devices keep publishing QoS 1 with persistent sessions. The gateway must report not-ready meanwhile, come back
// subscribed without a restart of its own, and store every reading the broker acknowledged exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { startMosquitto, waitFor, type RunningMosquitto } from '../../helpers/services.js';
import { fieldsOf, readyz, Sampler, scrape, Stream, TENANT, writeFleet, type Readyz } from './stream.js';

const DEVICES = 10;
/** One reading per device per period: 20 messages/s per device (limit 50), 200 messages/s in all. */
const PERIOD_MS = 50;
/** How long Mosquitto stays down. */
const DOWN_MS = 5_000;

interface Row {
  device: string;
  time_ms: number;
  fields: string;
}

/** JSON with sorted keys, so field order does not matter. */
function canonical(o: object): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));
}

describe('broker restart: Mosquitto stopped and started again while devices keep publishing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-broker-restart-'));
  const fleet = writeFleet(dir, DEVICES);
  let mosquitto: RunningMosquitto | undefined;
  let gw: TestGateway | undefined;
  let publisher: MqttClient | undefined;
  let stream: Stream | undefined;
  let sampler: Sampler | undefined;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    gw = await startTestGateway({ MQTT_URL: mosquitto.url, REGISTRY_SEED: fleet.file });
    // What a device does: a persistent session, reconnects, and an offline queue for what it publishes meanwhile.
    publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `rg-restart-pub-${process.pid}`, clean: false, reconnectPeriod: 500, connectTimeout: 5000 });
  });

  afterAll(async () => {
    await stream?.stop(5_000).catch(() => undefined);
    await sampler?.stop();
    await publisher?.endAsync(true);
    await gw?.stop();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/readyz shows the outage, the ingest resubscribes, and every acknowledged reading is stored exactly once', { timeout: 120_000 }, async () => {
    const g = gw as TestGateway;
    const broker = mosquitto as RunningMosquitto;
    const s = (stream = new Stream(publisher as MqttClient, fleet.devices, PERIOD_MS));
    s.start();
    await waitFor(async () => ((await scrape(g.httpUrl)).get('riskgate_points_written_total') ?? 0) >= 200, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'the first 200 points in SQLite',
    });

    const smp = (sampler = new Sampler(g.httpUrl, 200));
    await broker.pause();
    const downAt = Date.now();
    const sentAtStop = s.sentTotal;
    let down: { status: number; body: Readyz } | undefined;
    await waitFor(async () => (down = await readyz(g.httpUrl)).status === 503, { timeoutMs: 10_000, intervalMs: 50, what: '/readyz to turn 503' });
    expect(down?.body).toEqual({ status: 'not_ready', checks: { mqtt_subscribed: false, store: true, not_stopping: true } });
    await sleep(Math.max(0, downAt + DOWN_MS - Date.now()));
    // Still down just before the broker comes back: nothing flips readiness while the broker is away.
    expect((await readyz(g.httpUrl)).body.checks.mqtt_subscribed).toBe(false);
    const sentWhileDown = s.sentTotal - sentAtStop;
    await broker.resume();
    const downMs = Date.now() - downAt;
    const resumedAt = Date.now();
    await waitFor(async () => (await readyz(g.httpUrl)).status === 200, { timeoutMs: 15_000, intervalMs: 50, what: '/readyz to return to 200' });
    const reconnectMs = Date.now() - resumedAt;

    // Devices go on publishing for a while after the broker is back, then stop.
    await sleep(3_000);
    await s.stop(20_000);
    expect(s.errors).toEqual([]);
    const published = s.ackedTotal;
    expect(published).toBe(s.sentTotal);

    const db = new Database(join(g.dataDir, 'readings.db'), { readonly: true, fileMustExist: true });
    try {
      const count = db.prepare<[string], number>(`SELECT count(*) FROM points WHERE measurement = 'gas' AND tenant = ?`).pluck();
      await waitFor(async () => count.get(TENANT) === published && (await scrape(g.httpUrl)).get('riskgate_store_pending_points') === 0, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: `${published} points in readings.db and nothing pending`,
      });
      await smp.stop();

      // The gateway itself never went down: alive, ready, subscribed again, no reading refused.
      expect(smp.samples.some((x) => x.ready === 503 && x.checks.mqtt_subscribed === false && x.checks.store === true)).toBe(true);
      expect(smp.samples[smp.samples.length - 1]?.ready).toBe(200);
      expect((await fetch(`${g.httpUrl}/healthz`)).status).toBe(200);
      expect(await readyz(g.httpUrl)).toEqual({ status: 200, body: { status: 'ready', checks: { mqtt_subscribed: true, store: true, not_stopping: true } } });
      expect(g.gateway.ingest.ready).toBe(true);
      const end = await scrape(g.httpUrl);
      expect(end.get('riskgate_readings_rejected_total') ?? 0).toBe(0);
      const accepted = end.get('riskgate_readings_accepted_total') ?? 0;
      // QoS 1 is at least once: a reading may arrive twice (redelivered after the restart), never zero times.
      expect(accepted).toBeGreaterThanOrEqual(published);

      // readings.db holds exactly the published readings: count, one point per (device, time), equal values.
      const stored = count.get(TENANT) ?? 0;
      const distinct = db.prepare<[string], number>(`SELECT count(DISTINCT device || '@' || time_ms) FROM points WHERE measurement = 'gas' AND tenant = ?`).pluck().get(TENANT);
      const rows = db.prepare<[string], Row>(`SELECT device, time_ms, fields FROM points WHERE measurement = 'gas' AND tenant = ?`).all(TENANT);
      const byKey = new Map(rows.map((r) => [`${r.device}@${r.time_ms}`, r.fields]));
      const problems: string[] = [];
      for (const [k, device] of fleet.devices.entries()) {
        for (const i of s.acked[k] as Set<number>) {
          const got = byKey.get(`${device}@${s.timeOf(i)}`);
          const want = canonical(fieldsOf(k, i));
          if (got === undefined) problems.push(`${device}#${i} @${s.timeOf(i)}: missing`);
          else if (canonical(JSON.parse(got) as object) !== want) problems.push(`${device}#${i}: got ${got}, want ${want}`);
        }
      }
      console.log(
        `[broker-restart] broker down ${(downMs / 1000).toFixed(1)} s, gateway ready again ${(reconnectMs / 1000).toFixed(1)} s after the broker; ` +
          `published ${published} readings (${sentWhileDown} while the broker was down), stored ${stored} points (${distinct} distinct device/time), ` +
          `accepted ${accepted} (${accepted - published} delivered twice)`,
      );
      expect(problems.slice(0, 20)).toEqual([]);
      expect(distinct).toBe(stored);
      expect(stored).toBe(published);
    } finally {
      db.close();
    }
  });
});
