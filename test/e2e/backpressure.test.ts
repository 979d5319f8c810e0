import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../helpers/gateway.js';
import { findInfluxdPid, metricValue, procMemoryKb, spawnGateway, type GatewayProcess } from '../helpers/proc-gateway.js';
import { compareStored, readInfluxGas, ReadingStream, writeGasFleet, type StoreCheck } from '../helpers/proc-load.js';
import { startInfluxd, startMosquitto, waitFor, type RunningMosquitto, type RunningService } from '../helpers/services.js';

const MiB = 1024 * 1024;
/** Sustained rate, messages per second over the whole fleet (1 per device per second). */
const R = 100;
const DEVICES = 100;
const RSS_LIMIT_MB = 600;

interface Sample {
  atS: number;
  phase: string;
  rssKb: number;
  lagS: number;
  pending: number;
  spoolBytes: number;
  paused: number;
  readingBack: number;
}

/**
 * Issue 5 items 2 and 5 (backpressure part): the gateway process under a sustained load and a 10× burst while the
 * store is away (influxd SIGSTOPped). The backlog goes to the write-ahead spool instead of memory (a small
 * STORE_MAX_PENDING_POINTS), so RSS stays flat; the store lag grows and comes back to 0; nothing is dropped.
 */
describe('backpressure: store away during a burst', () => {
  let mosquitto: RunningMosquitto | undefined;
  let influxd: RunningService | undefined;
  let influxdPid: number | undefined;
  let influxdStopped = false;
  const tmp = mkdtempSync(join(tmpdir(), 'rg-backpressure-'));
  const gateways: GatewayProcess[] = [];
  const streams: ReadingStream[] = [];

  beforeAll(async () => {
    [mosquitto, influxd] = await Promise.all([startMosquitto(), startInfluxd()]);
    // The store goes away by SIGSTOP: this needs the local influxd binary, not a Docker container (RG_TEST_NO_DOCKER=1).
    try {
      influxdPid = findInfluxdPid(influxd.port);
    } catch (err) {
      throw new Error(`cannot find the influxd process to SIGSTOP (set RG_TEST_NO_DOCKER=1 to use the local binary): ${(err as Error).message}`, { cause: err });
    }
  });

  // Each test's processes go when it ends (they would only load the 2 cores the next test shares).
  afterEach(async () => {
    storeBack();
    await Promise.all(streams.splice(0).map((s) => s.close().catch(() => undefined)));
    await Promise.all(gateways.splice(0).map((g) => g.kill('SIGKILL')));
  });

  afterAll(async () => {
    storeBack();
    await Promise.all(streams.map((s) => s.close().catch(() => undefined)));
    await Promise.all(gateways.map((g) => g.kill('SIGKILL')));
    await Promise.all([mosquitto?.stop(), influxd?.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  });

  function storeAway(): void {
    process.kill(influxdPid as number, 'SIGSTOP');
    influxdStopped = true;
  }

  function storeBack(): void {
    if (influxdStopped && influxdPid !== undefined) process.kill(influxdPid, 'SIGCONT');
    influxdStopped = false;
  }

  async function start(dataDir: string, env: Record<string, string>): Promise<GatewayProcess> {
    const gw = await spawnGateway({
      dataDir,
      env: {
        MQTT_URL: (mosquitto as RunningMosquitto).url,
        INFLUX_URL: (influxd as RunningService).url,
        INFLUX_API: 'v1',
        RULES_DIR: join(REPO_ROOT, 'test/fixtures/rules-durability'),
        RULES_HOT_RELOAD: 'false',
        STORE_FLUSH_INTERVAL_MS: '200',
        // Memory holds at most this many points; a larger backlog is read back from the spool.
        STORE_MAX_PENDING_POINTS: '1000',
        ...env,
      },
    });
    gateways.push(gw);
    return gw;
  }

  /** Samples VmRSS and the store gauges every 500 ms until stopped. */
  function sampler(gw: GatewayProcess, phase: () => string): { samples: Sample[]; stop(): Promise<void> } {
    const samples: Sample[] = [];
    const t0 = Date.now();
    let running = true;
    const loop = (async () => {
      while (running) {
        const mem = procMemoryKb(gw.pid);
        try {
          const text = await gw.metricsText();
          samples.push({
            atS: (Date.now() - t0) / 1000,
            phase: phase(),
            rssKb: mem?.rssKb ?? Number.NaN,
            lagS: metricValue(text, 'riskgate_store_lag_seconds'),
            pending: metricValue(text, 'riskgate_store_pending_points'),
            spoolBytes: metricValue(text, 'riskgate_spool_bytes'),
            paused: metricValue(text, 'riskgate_ingest_paused'),
            readingBack: metricValue(text, 'riskgate_store_reading_back'),
          });
        } catch {
          // a scrape that timed out on a busy machine: the next one counts
        }
        await sleep(500);
      }
    })();
    return {
      samples,
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  async function storedCheck(database: string, published: ReadonlyMap<string, number>): Promise<StoreCheck> {
    // Points of the last batch become visible to queries a moment after InfluxDB acknowledged the write.
    let check = compareStored(await readInfluxGas((influxd as RunningService).url, database), published);
    for (let i = 0; i < 20 && check.missing.length > 0; i++) {
      await sleep(250);
      check = compareStored(await readInfluxGas((influxd as RunningService).url, database), published);
    }
    return check;
  }

  const max = (xs: number[]): number => xs.reduce((m, x) => (x > m ? x : m), 0);

  test(`${R} msg/s, then ${10 * R} msg/s for 30 s with the store stopped, then ${R} msg/s: flat RSS, lag rises and drains, nothing dropped`, async () => {
    const dir = mkdtempSync(join(tmp, 'burst-'));
    const fleet = writeGasFleet(dir, DEVICES);
    const gw = await start(join(dir, 'data'), { MQTT_CLIENT_ID: 'rg-bp-burst', INFLUX_DATABASE: 'rg_bp', REGISTRY_SEED: fleet.path });
    const stream = new ReadingStream({ brokerUrl: (mosquitto as RunningMosquitto).url, devices: fleet.devices, baseTs: Date.now() - 3_600_000 });
    streams.push(stream);
    await stream.connect('rg-bp-burst-publisher');

    let phase = 'sustained';
    const s = sampler(gw, () => phase);
    const tStart = Date.now();
    stream.setRate(R);
    await sleep(10_000);
    phase = 'burst';
    storeAway();
    stream.setRate(10 * R);
    await sleep(30_000);
    storeBack();
    phase = 'after';
    stream.setRate(R);
    await sleep(10_000);
    await stream.stop();
    const published = stream.published;
    phase = 'drain';
    await waitFor(async () => (await gw.metric('riskgate_store_pending_points')) === 0 && (await gw.metric('riskgate_readings_accepted_total')) >= published.size, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'the backlog to drain',
    });
    const drainedS = (Date.now() - tStart) / 1000;
    await s.stop();
    const hwmKb = procMemoryKb(gw.pid)?.hwmKb ?? Number.NaN;
    const text = await gw.metricsText();
    const check = await storedCheck('rg_bp', published);

    const burst = s.samples.filter((x) => x.phase === 'burst');
    const peakRssMb = max(s.samples.map((x) => x.rssKb)) / 1024;
    const peakLag = max(s.samples.map((x) => x.lagS));
    const peakPending = max(s.samples.map((x) => x.pending));
    const peakSpoolMb = max(s.samples.map((x) => x.spoolBytes)) / MiB;
    const byPhase = ['sustained', 'burst', 'after', 'drain']
      .map((p) => {
        const xs = s.samples.filter((x) => x.phase === p);
        return `${p}: RSS ≤ ${(max(xs.map((x) => x.rssKb)) / 1024).toFixed(0)} MB, lag ≤ ${max(xs.map((x) => x.lagS)).toFixed(1)} s, pending ≤ ${max(xs.map((x) => x.pending))}`;
      })
      .join('; ');
    console.log(
      `[backpressure] published ${published.size} readings (${stream.ackedMessages} messages), accepted ${metricValue(text, 'riskgate_readings_accepted_total')}, ` +
        `stored ${check.stored} (${check.missing.length} missing, ${check.duplicates} duplicates); drained ${drainedS.toFixed(1)} s after the start of the load\n` +
        `[backpressure] peak VmRSS ${peakRssMb.toFixed(0)} MB, VmHWM ${(hwmKb / 1024).toFixed(0)} MB; peak store lag ${peakLag.toFixed(1)} s; peak pending ${peakPending} points; ` +
        `peak spool ${peakSpoolMb.toFixed(1)} MiB; points read back from the spool ${metricValue(text, 'riskgate_spool_read_points_total')}; ` +
        `batch failures ${metricValue(text, 'riskgate_batch_failures_total')}; ingest paused in ${s.samples.filter((x) => x.paused > 0).length} of ${s.samples.length} samples\n` +
        `[backpressure] ${byPhase}`,
    );
    expect(metricValue(text, 'riskgate_readings_rejected_total')).toBe(0);
    expect(hwmKb / 1024).toBeLessThan(RSS_LIMIT_MB);
    expect(peakRssMb).toBeLessThan(RSS_LIMIT_MB);
    expect(max(burst.map((x) => x.lagS))).toBeGreaterThan(5);
    expect(burst.some((x) => x.readingBack > 0)).toBe(true);
    expect(max(burst.map((x) => x.spoolBytes))).toBeGreaterThan(0);
    expect(check.missing.slice(0, 10)).toEqual([]);
    expect(check.wrongValue.slice(0, 10)).toEqual([]);
    expect(check.unexpected.slice(0, 10)).toEqual([]);
    expect(check.duplicates).toBe(0);
    expect(check.stored).toBe(published.size);
  }, 90_000);

  test('SPOOL_MAX_MB=16 with the store stopped: the ingest pauses and the broker keeps the messages; store back: everything stored', async () => {
    const dir = mkdtempSync(join(tmp, 'full-'));
    const fleet = writeGasFleet(dir, DEVICES);
    const env = {
      MQTT_CLIENT_ID: 'rg-bp-full',
      INFLUX_DATABASE: 'rg_bp_full',
      REGISTRY_SEED: fleet.path,
      SPOOL_MAX_MB: '16',
      SPOOL_SEGMENT_MB: '4',
    };
    const first = await start(join(dir, 'data'), env);
    let gw = first;
    // 200 readings per message (a device's offline buffer, `{readings: […]}`): ~22 KB of spool per message, so 16 MiB
    // fill in ~800 messages; the per-device rate limit counts messages.
    const stream = new ReadingStream({ brokerUrl: (mosquitto as RunningMosquitto).url, devices: fleet.devices, baseTs: Date.now() - 3_600_000, stepMs: 10, readingsPerMessage: 200 });
    streams.push(stream);
    await stream.connect('rg-bp-full-publisher');
    storeAway();
    const tStart = Date.now();
    stream.setRate(150);
    await waitFor(async () => (await gw.metric('riskgate_ingest_paused')) === 1, { timeoutMs: 40_000, intervalMs: 250, what: 'the ingest to pause on a full spool' });
    const fullAfterS = (Date.now() - tStart) / 1000;
    // Paused: the gateway takes nothing more while the publisher goes on; the broker holds the rest.
    const atPause = metricValue(await gw.metricsText(), 'riskgate_mqtt_messages_total');
    await sleep(3_000);
    const pausedText = await gw.metricsText();
    const stillPaused = metricValue(pausedText, 'riskgate_ingest_paused');
    const afterWait = metricValue(pausedText, 'riskgate_mqtt_messages_total');
    const spoolMb = metricValue(pausedText, 'riskgate_spool_bytes') / MiB;
    const rssPausedMb = (procMemoryKb(gw.pid)?.rssKb ?? Number.NaN) / 1024;
    await stream.stop();
    const heldByBroker = stream.ackedMessages - afterWait;

    // SIGTERM while a message is held (spool full, store away): a bounded, clean exit — the held message is not
    // acknowledged, so the broker keeps it; the spool keeps what was taken.
    const tTerm = Date.now();
    await gw.kill('SIGTERM');
    const termMs = Date.now() - tTerm;
    const termCode = gw.proc.exitCode;

    storeBack();
    const tBack = Date.now();
    gw = await start(join(dir, 'data'), env);
    let check = await storedCheck('rg_bp_full', stream.published);
    await waitFor(
      async () => {
        if ((await gw.metric('riskgate_store_pending_points')) !== 0) return false;
        check = await storedCheck('rg_bp_full', stream.published);
        return check.missing.length === 0;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'everything to be stored once the store is back and the gateway restarted' },
    );
    const drainS = (Date.now() - tBack) / 1000;
    const text = await gw.metricsText();
    console.log(
      `[spool-full] spool full (ingest paused) ${fullAfterS.toFixed(1)} s after the store stopped, at ${spoolMb.toFixed(1)} MiB; ` +
        `messages taken: ${atPause} at the pause, ${afterWait} 3 s later; published ${stream.ackedMessages} messages (${stream.published.size} readings), ` +
        `${heldByBroker} held by the broker; RSS while paused ${rssPausedMb.toFixed(0)} MB; SIGTERM while paused: exit ${termCode} after ${termMs} ms; ` +
        `store back, gateway restarted (replayed ${metricValue(text, 'riskgate_spool_replayed_points_total')} points from the spool): drained in ${drainS.toFixed(1)} s, ` +
        `stored ${check.stored} (${check.missing.length} missing, ${check.duplicates} duplicates); ingest_paused now ${metricValue(text, 'riskgate_ingest_paused')}`,
    );
    expect(stillPaused).toBe(1);
    expect(termCode).toBe(0);
    expect(termMs).toBeLessThan(15_000);
    expect(metricValue(text, 'riskgate_spool_replayed_points_total')).toBeGreaterThan(0);
    expect(rssPausedMb).toBeLessThan(RSS_LIMIT_MB);
    expect(spoolMb).toBeGreaterThanOrEqual(16);
    // At most the message being held when the pause began (and one already parsed) got through meanwhile.
    expect(afterWait - atPause).toBeLessThanOrEqual(1);
    expect(heldByBroker).toBeGreaterThan(50);
    expect(metricValue(text, 'riskgate_ingest_paused')).toBe(0);
    expect(metricValue(text, 'riskgate_readings_rejected_total')).toBe(0);
    expect(check.missing.slice(0, 10)).toEqual([]);
    expect(check.wrongValue.slice(0, 10)).toEqual([]);
    expect(check.unexpected.slice(0, 10)).toEqual([]);
    expect(check.duplicates).toBe(0);
    expect(check.stored).toBe(stream.published.size);
  }, 90_000);
});
