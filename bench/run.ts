/**
 * `npm run bench`: riskgate against what else one could run, in one run on one local Mosquitto and InfluxDB 1.x
 * (Debian binaries on free loopback ports, as the integration tests start them):
 *
 *   (a) bench/baseline-subscriber.ts — mqtt.js + JSON.parse, the floor
 *   (b) bench/naive-pipeline.ts      — mqtt.js → JSON.parse → one threshold → batched line protocol to InfluxDB
 *   (c) riskgate, SQLite store       — `node --import tsx src/server.ts`, MQTT_URL = the Mosquitto
 *   (d) riskgate, InfluxDB store     — the same with INFLUX_URL
 *
 * The same generated stream for each: ~200-byte gas readings from N devices, published with QoS 1 (the wire
 * contract) by this process (src/loadtest/publisher.ts), one in `--alert-every` readings of a device over gas.lel's
 * threshold. Per system (bench/lib/measure.ts): a latency phase at a rate every system sustains (alert latency, CPU
 * per reading from /proc/<pid>/stat), then a ladder of offered rates until it falls behind. Results are printed and
 * written to bench/results/latest.json. No pass/fail: figures on a shared 2-core machine are indicative
 * (docs/performance.md).
 *
 *   npm run bench [-- --quick] [--systems a,b,c,d] [--devices 1000] [--qos 1] [--latency-rate 1000]
 *                 [--rates 2000,4000,8000,16000,32000] [--step 5s] [--out bench/results/latest.json]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { parseDurationMs } from '../src/lib/duration.js';
import { loadtestSeed } from '../src/loadtest/seed-file.js';
import { SyntheticFleet } from '../src/loadtest/synthetic-fleet.js';
import { REPO_ROOT } from '../test/helpers/gateway.js';
import { findChildPid, findInfluxdPid } from '../test/helpers/proc-gateway.js';
import { startInfluxd, startMosquitto, type RunningService } from '../test/helpers/services.js';
import { startBaseline, startNaive, startRiskgate, type Consumer } from './lib/consumers.js';
import { measureSystem, type MeasureSettings, type SystemResult } from './lib/measure.js';
import { BENCH_RESULTS_FORMAT, formatBenchTables, type BenchResults } from './lib/results.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    systems: { type: 'string', default: 'a,b,c,d' },
    devices: { type: 'string', default: '1000' },
    qos: { type: 'string', default: '1' },
    'alert-every': { type: 'string', default: '200' },
    'latency-rate': { type: 'string' },
    rates: { type: 'string' },
    step: { type: 'string' },
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
  devices: Number(values.devices),
  alertEvery: Number(values['alert-every']),
  warmupMs: quick ? 1_000 : 3_000,
  latencyRatePerS: Number(values['latency-rate'] ?? (quick ? 500 : 1000)),
  latencyMs: quick ? 3_000 : 10_000,
  stepRates: (values.rates ?? (quick ? '2000,8000' : '2000,4000,8000,16000,32000')).split(',').map(Number),
  stepMs: ms(values.step ?? (quick ? '2s' : '5s')),
  drainMs: quick ? 10_000 : 20_000,
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
try {
  log(`bench: starting Mosquitto and influxd (${quick ? 'quick' : 'full'} run; systems ${systems.join(', ')})`);
  mosquitto = await startMosquitto();
  influxd = await startInfluxd();
  const side = { broker: findChildPid('mosquitto'), influxd: findInfluxdPid(influxd.port) };
  const seedPath = join(tmp, 'seed.json');
  const fleet = new SyntheticFleet({ devices: settings.devices, alertEvery: settings.alertEvery });
  writeFileSync(seedPath, JSON.stringify(loadtestSeed({ fleet })));
  const payloadBytes = Buffer.byteLength(fleet.message(Date.now()).payload as string);
  const client = await mqtt.connectAsync(mosquitto.url, { clientId: `rg-bench-pub-${process.pid}`, clean: true, reconnectPeriod: 0 });
  try {
    for (const id of systems) {
      log(`bench: (${id})`);
      consumer =
        id === 'a'
          ? await startBaseline(mosquitto.url, settings.qos)
          : id === 'b'
            ? await startNaive(mosquitto.url, influxd.url, settings.qos)
            : id === 'c'
              ? await startRiskgate('c', { brokerUrl: mosquitto.url, seedPath })
              : id === 'd'
                ? await startRiskgate('d', { brokerUrl: mosquitto.url, seedPath, influxUrl: influxd.url })
                : undefined;
      if (!consumer) throw new Error(`unknown system ${id} (a, b, c or d)`);
      results.push(await measureSystem(consumer, client, settings, { broker: side.broker, influxd: id === 'b' || id === 'd' ? side.influxd : undefined }, log));
      await consumer.stop();
      consumer = undefined;
    }
  } finally {
    await client.endAsync(true);
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
    settings: { ...settings, payload_bytes: payloadBytes },
    systems: results,
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
