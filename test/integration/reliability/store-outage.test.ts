// Issue 5 item 1: the time-series store goes away for 30 s while devices keep publishing. Every reading the broker
// acknowledged must end up in InfluxDB exactly once with its values: held in memory at first, then (past
// STORE_MAX_PENDING_POINTS) only in the write-ahead spool and read back from it once influxd answers again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { startInfluxd, startMosquitto, waitFor, type RunningInfluxd, type RunningMosquitto } from '../../helpers/services.js';
import { fieldsOf, readyz, Sampler, scrape, Stream, writeFleet, type Fields, type Readyz } from './stream.js';

const DEVICES = 10;
/** One reading per device per period: 20 messages/s per device (limit 50), 200 points/s in all. */
const PERIOD_MS = 50;
const OUTAGE_MS = 30_000;
/** Points the batcher holds in memory before it lets go and reads the backlog back from the spool. */
const MAX_PENDING_POINTS = 1000;
const DATABASE = 'riskgate_outage';

interface InfluxSeries {
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

async function influxQuery(url: string, q: string): Promise<InfluxSeries[]> {
  const params = new URLSearchParams({ db: DATABASE, epoch: 'ms', q });
  const body = (await (await fetch(`${url}/query?${params}`, { signal: AbortSignal.timeout(20_000) })).json()) as {
    results: { error?: string; series?: InfluxSeries[] }[];
  };
  const result = body.results[0];
  if (result?.error !== undefined) throw new Error(`${q}: ${result.error}`);
  return result?.series ?? [];
}

describe('store outage: influxd stopped for 30 s while devices keep publishing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-store-outage-'));
  const fleet = writeFleet(dir, DEVICES);
  let mosquitto: RunningMosquitto | undefined;
  let influxd: RunningInfluxd | undefined;
  let gw: TestGateway | undefined;
  let publisher: MqttClient | undefined;
  let stream: Stream | undefined;
  let sampler: Sampler | undefined;

  beforeAll(async () => {
    [mosquitto, influxd] = await Promise.all([startMosquitto(), startInfluxd()]);
    gw = await startTestGateway({
      MQTT_URL: mosquitto.url,
      INFLUX_URL: influxd.url,
      INFLUX_API: 'v1',
      INFLUX_DATABASE: DATABASE,
      REGISTRY_SEED: fleet.file,
      STORE_MAX_PENDING_POINTS: String(MAX_PENDING_POINTS),
      // Smaller than the backlog, so that reading it back takes many batches.
      STORE_BATCH_SIZE: '500',
    });
    publisher = await mqtt.connectAsync(mosquitto.url, { clientId: `rg-outage-pub-${process.pid}`, clean: true, reconnectPeriod: 1000, connectTimeout: 5000 });
  });

  afterAll(async () => {
    await stream?.stop(5_000).catch(() => undefined);
    await sampler?.stop();
    await publisher?.endAsync(true);
    await gw?.stop();
    await Promise.all([mosquitto?.stop(), influxd?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('every acknowledged reading is stored exactly once with its values; /readyz and the spool metrics show the outage', { timeout: 150_000 }, async () => {
    const g = gw as TestGateway;
    const influx = influxd as RunningInfluxd;
    const s = (stream = new Stream(publisher as MqttClient, fleet.devices, PERIOD_MS));
    s.start();
    await waitFor(async () => ((await scrape(g.httpUrl)).get('riskgate_points_written_total') ?? 0) >= 200, {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'the first 200 points in InfluxDB',
    });
    const before = await scrape(g.httpUrl);
    const failuresBefore = before.get('riskgate_batch_failures_total') ?? 0;
    const spoolBytesBefore = before.get('riskgate_spool_bytes') ?? 0;

    const smp = (sampler = new Sampler(g.httpUrl, 250));
    await influx.pause();
    const downAt = Date.now();
    const sentAtStop = s.sentTotal;
    let down: { status: number; body: Readyz } | undefined;
    await waitFor(async () => (down = await readyz(g.httpUrl)).status === 503, { timeoutMs: 10_000, intervalMs: 100, what: '/readyz to turn 503' });
    expect(down?.body).toEqual({ status: 'not_ready', checks: { mqtt_subscribed: true, store: false, not_stopping: true } });
    // Past MAX_PENDING_POINTS (~5 s at 200 points/s) memory lets go and the batcher reads back from the spool.
    await waitFor(() => smp.max('riskgate_store_reading_back') === 1, { timeoutMs: OUTAGE_MS, intervalMs: 100, what: 'riskgate_store_reading_back to be 1' });
    await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
    const sentDuringOutage = s.sentTotal - sentAtStop;
    const pendingAtResume = (await scrape(g.httpUrl)).get('riskgate_store_pending_points') ?? 0;
    await influx.resume();
    const outageMs = Date.now() - downAt;

    // Devices go on publishing for a while after the store is back, then stop.
    await sleep(3_000);
    await s.stop(20_000);
    expect(s.errors).toEqual([]);
    const published = s.ackedTotal;
    expect(published).toBe(s.sentTotal);

    // Drained: everything published was taken by the gateway and acknowledged by InfluxDB.
    const drainStart = Date.now();
    await waitFor(
      async () => {
        const m = await scrape(g.httpUrl);
        return m.get('riskgate_store_pending_points') === 0 && (m.get('riskgate_readings_accepted_total') ?? 0) >= published;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `riskgate_store_pending_points to reach 0 with ${published} readings accepted` },
    );
    const drainMs = Date.now() - drainStart;
    await waitFor(async () => (await readyz(g.httpUrl)).status === 200, { timeoutMs: 10_000, intervalMs: 100, what: '/readyz to return to 200' });
    await smp.stop();

    // During the outage: not ready because of the store only, a spool on disk, reading back, failed batches retried.
    const outage = smp.samples.filter((x) => x.atMs <= outageMs);
    expect(outage.some((x) => x.ready === 503 && x.checks.store === false && x.checks.mqtt_subscribed === true)).toBe(true);
    expect(smp.max('riskgate_spool_bytes')).toBeGreaterThan(0);
    expect(smp.max('riskgate_spool_backlog_bytes')).toBeGreaterThan(100 * sentDuringOutage);
    // ~200 bytes a point: the backlog of the outage went to disk.
    expect(smp.max('riskgate_spool_bytes') - spoolBytesBefore).toBeGreaterThan(100 * sentDuringOutage);
    expect(smp.max('riskgate_store_lag_seconds')).toBeGreaterThan(OUTAGE_MS / 2000);
    expect(smp.max('riskgate_store_reading_back')).toBe(1);
    expect(smp.max('riskgate_batch_failures_total') - failuresBefore).toBeGreaterThan(0);
    expect(smp.max('riskgate_store_pending_points')).toBeGreaterThan(MAX_PENDING_POINTS);
    const end = await scrape(g.httpUrl);
    expect(end.get('riskgate_store_reading_back')).toBe(0);
    expect(end.get('riskgate_spool_backlog_bytes')).toBe(0); // stored records may stay in a segment file, but not in the backlog
    expect(end.get('riskgate_spool_read_points_total') ?? 0).toBeGreaterThan(0);
    expect(end.get('riskgate_readings_accepted_total')).toBe(published);
    expect(end.get('riskgate_readings_rejected_total') ?? 0).toBe(0);
    expect(end.get('riskgate_points_written_total')).toBe(published);

    // InfluxDB holds exactly the published readings: count, one point per (device, time), equal values.
    const counts = await influxQuery(influx.url, 'SELECT count("concentration_lel") FROM "gas" GROUP BY "device"');
    const storedByDevice = new Map(counts.map((c) => [c.tags?.device ?? '', Number(c.values[0]?.[1])]));
    const stored = [...storedByDevice.values()].reduce((a, b) => a + b, 0);
    const problems: string[] = [];
    for (const [k, device] of fleet.devices.entries()) {
      const series = await influxQuery(influx.url, `SELECT "concentration_lel", "battery_pct", "rsrp_dbm" FROM "gas" WHERE "device" = '${device}'`);
      const rows = series.flatMap((x) => x.values);
      const times = rows.map((r) => r[0] as number);
      if (new Set(times).size !== rows.length) problems.push(`${device}: ${rows.length} points but ${new Set(times).size} distinct times`);
      const expected = [...(s.acked[k] as Set<number>)].sort((a, b) => a - b);
      if (rows.length !== expected.length) problems.push(`${device}: ${rows.length} points stored, ${expected.length} published`);
      const byTime = new Map(rows.map((r) => [r[0] as number, { concentration_lel: r[1], battery_pct: r[2], rsrp_dbm: r[3] }]));
      for (const i of expected) {
        const want: Fields = fieldsOf(k, i);
        const got = byTime.get(s.timeOf(i));
        if (got === undefined) problems.push(`${device}#${i} @${s.timeOf(i)}: missing`);
        else if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${device}#${i}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    }

    console.log(
      `[store-outage] outage ${(outageMs / 1000).toFixed(1)} s; published ${published} readings (${sentDuringOutage} during the outage), ` +
        `stored ${stored} points (${DEVICES} devices: ${[...storedByDevice.values()].join(', ')}); ` +
        `pending at resume ${pendingAtResume}, max pending ${smp.max('riskgate_store_pending_points')}, ` +
        `spool ${spoolBytesBefore} bytes before, max ${smp.max('riskgate_spool_bytes')}, ${end.get('riskgate_spool_bytes')} after the drain; ` +
        `max store lag ${smp.max('riskgate_store_lag_seconds').toFixed(1)} s; batch failures ${smp.max('riskgate_batch_failures_total') - failuresBefore}, ` +
        `points read back from the spool ${end.get('riskgate_spool_read_points_total')}, drained ${(drainMs / 1000).toFixed(1)} s after the publisher stopped`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(stored).toBe(published);
  });
});
