/**
 * `npm run bench`: riskgate against what else one could run, in one run on one local Mosquitto and InfluxDB 1.x
 * (Debian binaries on free loopback ports, as the integration tests start them):
 *
 *   (a) bench/baseline-subscriber.ts — mqtt.js + JSON.parse, the floor
 *   (b) bench/naive-pipeline.ts      — mqtt.js → JSON.parse → one threshold → batched line protocol to InfluxDB
 *   (n) Node-RED                     — mqtt in → json → threshold function → influxdb batch (bench/nodered/flow.json,
 *                                      bench/lib/nodered.ts; installed on demand into ~/.cache/riskgate-bench, skipped
 *                                      with the reason printed when that fails)
 *   (c) riskgate, SQLite store       — `node --import tsx src/server.ts`, MQTT_URL = the Mosquitto
 *   (d) riskgate, InfluxDB store     — the same with INFLUX_URL (the production store; issue 9's targets are its)
 *
 * The same replay for each (bench/lib/replay.ts): ~200-byte JSON readings of `--devices` devices of all five kinds
 * from the city fleet (devices/fleets/city.yaml, real sim models), pre-generated into memory and published
 * round-robin with QoS 1 (the wire contract) by this process; one gas reading in `--alert-every` per device over
 * 25 %LEL and the next back under 22. riskgate knows every device through REGISTRY_SEED (all default rule packs
 * apply), has a WebSocket client on its alert stream, and must accept every reading (checked, rejects printed).
 *
 * Per system (bench/lib/measure.ts): warm-up (≥ 1.2 passes over the devices); a CPU phase at `--cpu-rate` msg/s (CPU per reading of each process
 * from /proc/<pid>/stat, compared across systems at that one rate); a ladder of offered rates until the system falls
 * behind — 200 ms after the step it has not processed 95 % of what the step published, it does not drain, or its
 * store does not hold every processed reading within 4 s after — or the publisher cannot offer 90 % of the rate (it
 * shares the two cores with the system under test, so S may be a lower bound, marked ≥): the highest step kept
 * is its sustained rate S; then latency phases at 25/50/75/90 % of S (publish → alert p50/p95/p99/max). Results are
 * printed, with issue 9's targets for (d) against (b) and (n), and written to bench/results/latest.json. Figures on a
 * shared 2-core machine are indicative (docs/performance.md); "met"/"not met" is of this run only.
 *
 *   npm run bench [-- --quick] [--systems a,b,n,d] [--devices 20000] [--qos 1] [--alert-every 200] [--cpu-rate 5000]
 *                 [--rates 2000,4000,…] [--step 4s] [--latency-duration 8s] [--out bench/results/latest.json]
 *
 * `--quick`: 5000 devices, ladder 4000–16000 × 2 s, 3 s phases (~3 min). `--systems` may add `c` (SQLite store).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { parseDurationMs } from '../src/lib/duration.js';
import { REPO_ROOT } from '../test/helpers/gateway.js';
import { findChildPid, findInfluxdPid } from '../test/helpers/proc-gateway.js';
import { startInfluxd, startMosquitto, type RunningService } from '../test/helpers/services.js';
import { startBaseline, startNaive, startRiskgate, type Consumer } from './lib/consumers.js';
import { measureSystem, type MeasureSettings, type SystemResult } from './lib/measure.js';
import { ensureNodeRed, startNodeRed } from './lib/nodered.js';
import { CityReplay } from './lib/replay.js';
import { BENCH_RESULTS_FORMAT, formatBenchTables, type BenchResults } from './lib/results.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    systems: { type: 'string', default: 'a,b,n,d' },
    devices: { type: 'string' },
    qos: { type: 'string', default: '1' },
    'alert-every': { type: 'string', default: '200' },
    'cpu-rate': { type: 'string', default: '5000' },
    rates: { type: 'string' },
    step: { type: 'string' },
    'latency-duration': { type: 'string' },
    out: { type: 'string', default: join(REPO_ROOT, 'bench/results/latest.json') },
  },
});

const ms = (v: string): number => {
  const n = parseDurationMs(v);
  if (n === undefined || n <= 0) throw new Error(`not a duration: ${v}`);
  return n;
};
const quick = values.quick;
const settings: MeasureSettings = {
  qos: values.qos === '0' ? 0 : 1,
  devices: Number(values.devices ?? (quick ? 5_000 : 20_000)),
  alertEvery: Number(values['alert-every']),
  warmupRatePerS: quick ? 3_000 : 4_000,
  warmupMs: quick ? 1_000 : 3_000,
  cpuRatePerS: Number(values['cpu-rate']),
  cpuMs: quick ? 3_000 : 8_000,
  stepRates: (values.rates ?? (quick ? '4000,8000,12000,16000' : '2000,4000,6000,8000,10000,12000,14000,16000,20000,24000')).split(',').map(Number),
  stepMs: ms(values.step ?? (quick ? '2s' : '4s')),
  latencyFractions: [0.25, 0.5, 0.75, 0.9],
  latencyMs: ms(values['latency-duration'] ?? (quick ? '3s' : '8s')),
  drainMs: quick ? 10_000 : 20_000,
  storeDrainMs: 4_000,
  maxInflight: 1000,
};
const systems = values.systems.split(',').map((s) => s.trim());

const version = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]?.trim() ?? '?';
  } catch (err) {
    return ((err as { stdout?: string }).stdout ?? '?').split('\n')[0]?.trim() || '?';
  }
};

// Local processes, not containers: the bench reads their CPU time from /proc.
process.env.RG_TEST_NO_DOCKER = '1';
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const started = Date.now();
const loadStart = loadavg();
const tmp = mkdtempSync(join(tmpdir(), 'rg-bench-'));
let mosquitto: RunningService | undefined;
let influxd: RunningService | undefined;
let consumer: Consumer | undefined;
const results: SystemResult[] = [];
const skipped: BenchResults['skipped'] = [];
try {
  log(`bench: ${quick ? 'quick' : 'full'} run; systems ${systems.join(', ')}`);
  const seedPath = join(tmp, 'seed.json');
  const tGen = Date.now();
  const replay = new CityReplay({ devices: settings.devices, alertEvery: settings.alertEvery });
  writeFileSync(seedPath, JSON.stringify(replay.seed()));
  const kinds = replay.kinds();
  log(`bench: replay of ${settings.devices} devices (${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}), ~${replay.meanPayloadBytes()} bytes a reading, generated in ${Date.now() - tGen} ms`);
  let nodeRedDir: string | undefined;
  if (systems.includes('n')) {
    const nr = await ensureNodeRed(log);
    if ('dir' in nr) nodeRedDir = nr.dir;
    else {
      skipped.push({ id: 'n', reason: nr.error });
      log(`bench: skipping (n) Node-RED: ${nr.error}`);
    }
  }
  for (const id of systems) {
    if (id === 'n' && nodeRedDir === undefined) continue;
    // A fresh Mosquitto and influxd for each system: the same conditions for all, none paying for the data (and
    // influxd's compactions) of the systems before it.
    log(`bench: (${id}) starting Mosquitto and influxd`);
    // e.g. RG_BENCH_MOSQUITTO_CONF='max_inflight_messages 0': lines added to the brokers' mosquitto.conf (';' between).
    const brokerLines = (process.env.RG_BENCH_MOSQUITTO_CONF ?? '').split(';').map((l) => l.trim()).filter((l) => l !== '');
    mosquitto = await startMosquitto(brokerLines.length > 0 ? { extraConfig: { lines: brokerLines } } : {});
    influxd = await startInfluxd();
    const side = { broker: findChildPid('mosquitto'), influxd: findInfluxdPid(influxd.port) };
    const client = await mqtt.connectAsync(mosquitto.url, { clientId: `rg-bench-pub-${process.pid}`, clean: true, reconnectPeriod: 0 });
    try {
      try {
        consumer =
          id === 'a'
            ? await startBaseline(mosquitto.url, settings.qos)
            : id === 'b'
              ? await startNaive(mosquitto.url, influxd.url, settings.qos)
              : id === 'n'
                ? await startNodeRed(nodeRedDir as string, { brokerUrl: mosquitto.url, influxUrl: influxd.url, qos: settings.qos })
                : id === 'c'
                  ? await startRiskgate('c', { brokerUrl: mosquitto.url, seedPath })
                  : id === 'd'
                    ? await startRiskgate('d', { brokerUrl: mosquitto.url, seedPath, influxUrl: influxd.url })
                    : undefined;
      } catch (err) {
        // Node-RED is not ours: a failure to start it skips it, the other systems still run.
        if (id !== 'n') throw err;
        skipped.push({ id, reason: `did not start: ${(err as Error).message.slice(0, 500)}` });
        log(`bench: skipping (n) Node-RED: ${(err as Error).message}`);
        continue;
      }
      if (!consumer) throw new Error(`unknown system ${id} (a, b, c, d or n)`);
      const usesInflux = id === 'b' || id === 'd' || id === 'n';
      results.push(await measureSystem(consumer, client, replay, settings, { broker: side.broker, influxd: usesInflux ? side.influxd : undefined }, log));
      await consumer.stop();
      consumer = undefined;
    } finally {
      await client.endAsync(true);
      await consumer?.stop().catch(() => undefined);
      consumer = undefined;
      await influxd.stop();
      influxd = undefined;
      await mosquitto.stop();
      mosquitto = undefined;
    }
  }
  const res: BenchResults = {
    format: BENCH_RESULTS_FORMAT,
    started_at: new Date(started).toISOString(),
    duration_s: Math.round((Date.now() - started) / 100) / 10,
    quick,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model.trim() ?? '?',
      memory_gb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      os: `${osType()} ${release()}`,
      load_avg_start: loadStart,
      load_avg_end: loadavg(),
      mosquitto: version('/usr/sbin/mosquitto', ['-h']),
      influxd: version('influxd', ['version']),
    },
    settings: { ...settings, payload_bytes: replay.meanPayloadBytes(), kinds },
    systems: results,
    skipped,
  };
  process.stdout.write(formatBenchTables(res));
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(res, null, 2)}\n`);
  log(`bench: ${res.duration_s} s; results → ${values.out}`);
} finally {
  await consumer?.stop().catch(() => undefined);
  await influxd?.stop();
  await mosquitto?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
