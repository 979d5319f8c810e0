// The gateway's hot path in one process, without a broker: the real Pipeline with its real sinks (StoreSink →
// WriteBatcher with the write-ahead spool in a temp dir, RuleEngine with every default rule pack, DeviceActivity), the
// alert store and service on a real SQLite file, a stand-in WebSocket client on the bus, fed pre-generated ~200-byte
// readings of a city fleet through `pipeline.ingestMqtt(topic, payload)` — what MqttIngest does per message. Reports
// CPU time per message (process.cpuUsage: every thread of the process, GC included) and messages per second, for the
// full path and with stages left out, so the cost of each stage is the difference. Issue 9 items 1 and 6.
//
//   node --import tsx bench/hot-path.ts [--devices 20000] [--messages 200000] [--repeat 3] [--variants full,no-rules]
//        [--store influx|discard|sqlite] [--alert-every 200] [--profile out.cpuprofile] [--json out.json]
//        [--chunk 256] [--gap-ms 0] [--gap sleep|spin]
//
// `--store influx` (default): the real InfluxDB 1.x writer (src/storage/influx-v1.ts: line protocol, HTTP) against a
// stand-in InfluxDB in a child process that answers every write with 204 — its CPU is not ours, as influxd's is not;
// `discard`: line protocol built in process and dropped; `sqlite`: the real SQLite store on a temp file.
//
// `--profile` records a CPU profile of the measured loops only (node:inspector); `node --cpu-prof` profiles the whole
// process, setup included. Summarise either with bench/profile-summary.ts. Never a pass/fail: figures only.
//
// `--chunk N` messages make one group commit (default 256, back to back: warm caches); `--gap-ms M` sleeps M ms
// between groups instead of yielding, as the real process sleeps between socket reads while the publisher, the broker
// and the store run (e.g. `--chunk 10 --gap-ms 2` is ~5000 msg/s in groups of 10). The difference between the two is
// what a wake-up costs on this machine (docs/performance.md, "Wake-ups and cold caches"). `--gap spin` spends the gap spinning
// instead (left out of the figures): the process never sleeps, yet its caches go cold all the same.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { AlertService } from '../src/alerts/alert-service.js';
import { AlertStore } from '../src/alerts/alert-store.js';
import { buildTopic } from '../src/ingest/mqtt/topics.js';
import { systemClock } from '../src/lib/clock.js';
import { EventBus } from '../src/lib/event-bus.js';
import { createMetrics, type Metrics } from '../src/lib/metrics.js';
import { openSqlite, type SqliteDb } from '../src/lib/sqlite.js';
import { DeadLetterLog } from '../src/pipeline/dead-letters.js';
import type { GatewayEvents } from '../src/pipeline/events.js';
import { DEFAULT_INGEST_LIMITS, Pipeline, type ReadingSink } from '../src/pipeline/pipeline.js';
import type { FieldValue } from '../src/pipeline/reading.js';
import { DeviceActivity } from '../src/registry/device-activity.js';
import { DeviceRegistry, type Device } from '../src/registry/device-registry.js';
import { RuleEngine } from '../src/rules/engine.js';
import { loadRules, type RuleSet } from '../src/rules/loader.js';
import { loadSimFleet } from '../src/sim/fleet-file.js';
import { loadModels } from '../src/sim/models.js';
import { SimDevice } from '../src/sim/sim-device.js';
import { WriteBatcher } from '../src/storage/batcher.js';
import type { Point, PointWriter } from '../src/storage/point.js';
import { Spool } from '../src/storage/spool.js';
import { InfluxV1PointWriter } from '../src/storage/influx-v1.js';
import { SqlitePointWriter } from '../src/storage/sqlite.js';
import { StoreSink } from '../src/storage/store-sink.js';

const ROOT = resolve(import.meta.dirname, '..');
const CITY_FLEET = join(ROOT, 'devices/fleets/city.yaml');

// ── the fleet and its readings ──────────────────────────────────────────────────────────────────────────────────

/** N devices of all five kinds: the city fleet (20 000), sampled evenly below that, replicated under `<tenant>.rK` above. */
export interface BenchFleet {
  devices: Device[];
  /** The simulated city device each bench device takes its values from. */
  sims: SimDevice[];
}

export function loadFleet(n: number): BenchFleet {
  const models = loadModels(join(ROOT, 'devices/models'));
  if (!models.ok) throw new Error(`devices/models: ${JSON.stringify(models.problems.slice(0, 3))}`);
  const city = loadSimFleet(CITY_FLEET, models.models);
  if (!city.ok) throw new Error(`city fleet: ${JSON.stringify(city.problems.slice(0, 3))}`);
  const base = city.profiles.map((p, i) => new SimDevice(i, p, 9));
  const devices: Device[] = [];
  const sims: SimDevice[] = [];
  for (let i = 0; i < n; i++) {
    const b = n <= base.length ? Math.floor((i * base.length) / n) : i % base.length;
    const replica = n <= base.length ? 0 : Math.floor(i / base.length);
    const sim = base[b] as SimDevice;
    const d = sim.profile.device;
    devices.push(replica === 0 ? d : { ...d, tenant: `${d.tenant}.r${replica}` });
    sims.push(sim);
  }
  return { devices, sims };
}

/** One round = one reading per device, in device order: topic and the JSON of `data` (the envelope is added per run). */
export interface Round {
  topics: string[];
  data: string[];
}

/**
 * `rounds` rounds of readings. With `alertEvery` > 0 one gas reading in that many (staggered over the devices)
 * carries 30 %LEL — over gas.lel's 一级 set point — and the device's next reading falls back: alert traffic as in
 * `npm run bench` (raised/reactivated, then cleared).
 */
export function generateRounds(fleet: BenchFleet, rounds: number, alertEvery: number, startS = 0): Round[] {
  const out: Round[] = [];
  const topics = fleet.devices.map((d) => buildTopic({ tenant: d.tenant, kind: d.kind, deviceId: d.deviceId, channel: 'telemetry' }));
  const clockMs = Date.now();
  for (let r = 0; r < rounds; r++) {
    const data: string[] = [];
    for (let i = 0; i < fleet.devices.length; i++) {
      const sim = fleet.sims[i] as SimDevice;
      const tS = startS + r * 60 + (i % 60);
      const values = sim.data(tS, clockMs + tS * 1000) as Record<string, FieldValue | string>;
      if (alertEvery > 0 && fleet.devices[i]?.kind === 'gas' && (r + startS / 60 + i) % alertEvery === 0) values.concentration_lel = 30;
      data.push(JSON.stringify(values));
    }
    out.push({ topics, data });
  }
  return out;
}

/** The payloads of a run: device time so that the last round lands at `endMs`, `stepMs` apart (inside every window). */
export function envelopes(rounds: Round[], endMs: number, stepMs: number, seqBase = 0): { topics: string[]; payloads: Buffer[] } {
  const topics: string[] = [];
  const payloads: Buffer[] = [];
  rounds.forEach((round, r) => {
    const ts = endMs - (rounds.length - 1 - r) * stepMs;
    for (let i = 0; i < round.data.length; i++) {
      topics.push(round.topics[i] as string);
      payloads.push(Buffer.from(`{"ts":${ts - (i % 997)},"seq":${seqBase + r + 1},"data":${round.data[i]}}`));
    }
  });
  return { topics, payloads };
}

// ── the gateway pieces ──────────────────────────────────────────────────────────────────────────────────────────

/**
 * A PointWriter that does the CPU work of the InfluxDB writer — line protocol for every point — and sends nothing.
 * Mirrors what the `influx` package writes (tags sorted, numbers as floats, ms precision).
 */
export class LineProtocolDiscardWriter implements PointWriter {
  readonly name = 'discard';
  bytes = 0;
  points = 0;
  async start(): Promise<void> {}
  async write(points: readonly Point[]): Promise<void> {
    let body = '';
    for (const p of points) body += `${lineOf(p)}\n`;
    this.bytes += Buffer.byteLength(body);
    this.points += points.length;
  }
  async ping(): Promise<boolean> {
    return true;
  }
  async stop(): Promise<void> {}
}

const escTag = (s: string): string => s.replace(/[,= ]/g, '\\$&');
const escMeasurement = (s: string): string => s.replace(/[, ]/g, '\\$&');

function lineOf(p: Point): string {
  let line = escMeasurement(p.measurement);
  for (const k of Object.keys(p.tags).sort()) {
    const v = p.tags[k] as string;
    if (v !== '') line += `,${escTag(k)}=${escTag(v)}`;
  }
  let sep = ' ';
  for (const k in p.fields) {
    const v = p.fields[k] as FieldValue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    line += `${sep}${escTag(k)}=${String(v)}`;
    sep = ',';
  }
  return `${line} ${p.timeMs}`;
}

/** Which stages a run includes. */
export type Variant = 'full' | 'no-rules' | 'no-store' | 'no-sinks' | 'json-floor';
export const VARIANTS: Record<Variant, string> = {
  full: 'everything: validation, spool + store, all rules + alerts + stream client, activity',
  'no-rules': 'without the rule engine (store + activity)',
  'no-store': 'without the store sink (no spool, no batcher)',
  'no-sinks': 'topic, registry, JSON, envelope, kind validation, rate limit, metrics; no sink',
  'json-floor': 'JSON.parse of each payload and nothing else (the floor)',
};

export interface BenchGateway {
  dir: string;
  db: SqliteDb;
  metrics: Metrics;
  registry: DeviceRegistry;
  alerts: AlertService;
  rules: RuleEngine;
  batcher: WriteBatcher;
  activity: DeviceActivity;
  pipeline: Pipeline;
  writer: PointWriter;
  /** Alert events the stand-in WebSocket client received (serialised, as the stream sends them). */
  streamed: { events: number; bytes: number };
  stop(): Promise<void>;
}

export interface BuildOptions {
  devices: Device[];
  rules: RuleSet;
  sinks: { store: boolean; rules: boolean; activity: boolean };
  store: StoreKind;
  timers: boolean;
}

/** Which store the batcher writes to (see the header). */
export type StoreKind = 'influx' | 'discard' | 'sqlite';

let influxSink: { url: string; child: ChildProcess } | undefined;

/** The stand-in InfluxDB: a child process that reads each request and answers 204 (started once, on first use). */
async function influxSinkUrl(): Promise<string> {
  if (influxSink) return influxSink.url;
  const code = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.statusCode = 204; r.end(); }); });
    s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())));
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  influxSink = { url: `http://127.0.0.1:${port}`, child };
  return influxSink.url;
}

/** Stops the stand-in InfluxDB, if one was started. */
export function stopInfluxSink(): void {
  influxSink?.child.kill();
  influxSink = undefined;
}

async function createWriter(kind: StoreKind, dir: string): Promise<PointWriter> {
  if (kind === 'sqlite') return new SqlitePointWriter({ path: join(dir, 'points.db') });
  if (kind === 'discard') return new LineProtocolDiscardWriter();
  return new InfluxV1PointWriter({ url: await influxSinkUrl(), database: 'riskgate', createDatabase: false });
}

/** The stages of src/app.ts `startStages()` that a reading passes, on a temp dir. */
export async function buildGateway(o: BuildOptions): Promise<BenchGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-hot-path-'));
  const logger = pino({ level: 'silent' });
  const metrics = createMetrics({ defaultMetrics: false });
  const bus = new EventBus<GatewayEvents>();
  const db = openSqlite(join(dir, 'riskgate.db'));
  const registry = new DeviceRegistry(db);
  registry.start();
  registry.upsert(o.devices);
  const alertStore = new AlertStore(db);
  alertStore.start();
  const alerts = new AlertService({ store: alertStore, bus, clock: systemClock, metrics, logger });
  alerts.start();
  const rules = new RuleEngine({ rules: o.rules, alerts, registry, clock: systemClock, logger, db });
  // A stage left out runs no timers either: paced runs (`--gap-ms`) last long enough for them to count.
  rules.start({ timers: o.timers && o.sinks.rules });
  // A connected WebSocket client: the stream serialises every event it sends (src/stream/alert-stream.ts).
  const streamed = { events: 0, bytes: 0 };
  bus.on('alertEvent', streamed, (event) => {
    streamed.events++;
    streamed.bytes += JSON.stringify({ type: 'alert_event', event }).length;
  });
  const activity = new DeviceActivity({ clock: systemClock, db, logger });
  activity.start({ timers: o.timers && o.sinks.activity });
  const writer = await createWriter(o.store, dir);
  await writer.start();
  const spool = new Spool({ dir: join(dir, 'spool') });
  const backend = writer.name;
  const batcher = new WriteBatcher({
    writer,
    spool,
    hooks: {
      batchWritten: (n, ms) => {
        metrics.pointsWritten.inc({ backend }, n);
        metrics.batchWriteSeconds.observe({ backend }, ms / 1000);
        bus.emit('batchWritten', { backend, points: n, ms });
      },
    },
  });
  batcher.start();
  const sinks: ReadingSink[] = [];
  if (o.sinks.store) sinks.push(new StoreSink(batcher));
  if (o.sinks.rules) sinks.push(rules);
  if (o.sinks.activity) sinks.push(activity);
  const pipeline = new Pipeline({ registry, metrics, deadLetters: new DeadLetterLog(1000), clock: systemClock, limits: DEFAULT_INGEST_LIMITS, sinks });
  return {
    dir,
    db,
    metrics,
    registry,
    alerts,
    rules,
    batcher,
    activity,
    pipeline,
    writer,
    streamed,
    async stop() {
      rules.stop();
      activity.stop();
      await batcher.stop();
      await writer.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ── one measured run ────────────────────────────────────────────────────────────────────────────────────────────

export interface RunResult {
  variant: Variant;
  messages: number;
  accepted: number;
  rejected: number;
  alertEvents: number;
  cpuUsPerMsg: number;
  userUsPerMsg: number;
  msgsPerS: number;
  wallMs: number;
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Messages between yields to the event loop (mqtt.js hands over what one socket read holds, then timers run): one group commit (`--chunk`). */
let CHUNK = 256;
/** Sleep between groups, ms (`--gap-ms`; 0: yield only). */
let GAP_MS = 0;
/** `--gap spin`: spend the gap spinning on the CPU instead of sleeping (its CPU time is left out of the figures). */
let SPIN = false;
/** CPU time spent spinning in gaps since the last reset, µs. */
let spunUs = 0;
function spin(ms: number): void {
  const c0 = process.cpuUsage();
  const end = performance.now() + ms;
  while (performance.now() < end);
  const c = process.cpuUsage(c0);
  spunUs += c.user + c.system;
}
const betweenGroups = async (): Promise<void> => {
  if (GAP_MS > 0 && !SPIN) return new Promise<void>((r) => setTimeout(r, GAP_MS));
  if (GAP_MS > 0) spin(GAP_MS);
  return yieldToLoop();
};
const GROUPED = { deferCommit: true } as const;

async function counterTotal(metrics: Metrics, name: 'readingsAccepted' | 'readingsRejected'): Promise<number> {
  const m = await metrics[name].get();
  return m.values.reduce((s, v) => s + v.value, 0);
}

export async function runVariant(variant: Variant, fleet: BenchFleet, rules: RuleSet, warm: Round[], measured: Round[], o: { store: StoreKind; session?: Session }): Promise<RunResult> {
  const stepMs = Math.min(60_000, Math.floor(480_000 / (warm.length + measured.length)));
  const all = envelopes([...warm, ...measured], Date.now(), stepMs);
  const nWarm = warm.reduce((s, r) => s + r.data.length, 0);
  const n = all.payloads.length - nWarm;
  if (variant === 'json-floor') {
    let keep = 0;
    for (let i = 0; i < nWarm; i++) keep += JSON.parse((all.payloads[i] as Buffer).toString('utf8')).seq as number;
    await o.session?.post('Profiler.start');
    spunUs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = nWarm; i < all.payloads.length; i++) {
      keep += JSON.parse((all.payloads[i] as Buffer).toString('utf8')).seq as number;
      if (i % CHUNK === 0) await betweenGroups();
    }
    const r = finish(variant, n, cpu0, t0, { accepted: keep > 0 ? n : 0, rejected: 0, alertEvents: 0 });
    await stopProfile(o.session);
    return r;
  }
  const gw = await buildGateway({
    devices: fleet.devices,
    rules,
    sinks: { store: variant !== 'no-store' && variant !== 'no-sinks', rules: variant !== 'no-rules' && variant !== 'no-sinks', activity: variant !== 'no-sinks' },
    store: o.store,
    timers: true,
  });
  try {
    // Warm-up: every rule slot and bucket created, the JIT warm; then settle what it left behind.
    for (let i = 0; i < nWarm; i++) {
      gw.pipeline.ingestMqtt(all.topics[i] as string, all.payloads[i] as Buffer);
      if ((i & 255) === 0) await yieldToLoop();
    }
    await gw.batcher.flush();
    gw.rules.persist();
    const acc0 = await counterTotal(gw.metrics, 'readingsAccepted');
    const rej0 = await counterTotal(gw.metrics, 'readingsRejected');
    const ev0 = gw.streamed.events;
    await o.session?.post('Profiler.start');
    spunUs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // As MqttIngest does: the messages of one socket read are one group commit (one spool record, acks after it).
    for (let i = nWarm; i < all.payloads.length; i++) {
      gw.pipeline.ingestMqtt(all.topics[i] as string, all.payloads[i] as Buffer, GROUPED);
      if (i % CHUNK === 0) {
        gw.pipeline.commit();
        await betweenGroups();
      }
    }
    gw.pipeline.commit();
    // Work the run caused after its last message: the last batches, the rule state it changed.
    await gw.batcher.flush();
    gw.rules.persist();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    await stopProfile(o.session);
    return result(variant, n, cpu, wallMs, {
      accepted: (await counterTotal(gw.metrics, 'readingsAccepted')) - acc0,
      rejected: (await counterTotal(gw.metrics, 'readingsRejected')) - rej0,
      alertEvents: gw.streamed.events - ev0,
    });
  } finally {
    await gw.stop();
  }
}

function finish(variant: Variant, n: number, cpu0: NodeJS.CpuUsage, t0: number, counts: { accepted: number; rejected: number; alertEvents: number }): RunResult {
  return result(variant, n, process.cpuUsage(cpu0), performance.now() - t0, counts);
}

function result(variant: Variant, n: number, cpuAll: NodeJS.CpuUsage, wallMs: number, counts: { accepted: number; rejected: number; alertEvents: number }): RunResult {
  // Spinning in the gaps is the bench's, not the gateway's (it spins in user mode).
  const cpu = { user: Math.max(0, cpuAll.user - spunUs), system: cpuAll.system };
  return {
    variant,
    messages: n,
    ...counts,
    cpuUsPerMsg: (cpu.user + cpu.system) / n,
    userUsPerMsg: cpu.user / n,
    msgsPerS: n / (wallMs / 1000),
    wallMs,
  };
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────────────────────

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '20000' },
      messages: { type: 'string', default: '200000' },
      repeat: { type: 'string', default: '3' },
      variants: { type: 'string', default: 'full,no-rules,no-store,no-sinks,json-floor' },
      'alert-every': { type: 'string', default: '200' },
      store: { type: 'string', default: 'influx' },
      profile: { type: 'string' },
      json: { type: 'string' },
      chunk: { type: 'string', default: '256' },
      'gap-ms': { type: 'string', default: '0' },
      gap: { type: 'string', default: 'sleep' },
    },
  });
  CHUNK = Number(values.chunk);
  GAP_MS = Number(values['gap-ms']);
  if (!Number.isInteger(CHUNK) || CHUNK < 1) throw new Error(`--chunk must be a positive integer, not ${values.chunk}`);
  if (!Number.isFinite(GAP_MS) || GAP_MS < 0) throw new Error(`--gap-ms must be a number ≥ 0, not ${values['gap-ms']}`);
  if (values.gap !== 'sleep' && values.gap !== 'spin') throw new Error(`--gap must be sleep or spin, not ${values.gap}`);
  SPIN = values.gap === 'spin';
  const nDevices = Number(values.devices);
  const nMessages = Number(values.messages);
  const repeat = Number(values.repeat);
  const variants = (values.variants as string).split(',') as Variant[];
  if (!['influx', 'discard', 'sqlite'].includes(values.store as string)) throw new Error(`unknown store ${values.store} (influx, discard, sqlite)`);
  for (const v of variants) if (!(v in VARIANTS)) throw new Error(`unknown variant ${v} (${Object.keys(VARIANTS).join(', ')})`);
  const alertEvery = Number(values['alert-every']);

  const rules = loadRules(join(ROOT, 'alert-rules'), ROOT);
  if (!rules.ok) throw new Error('alert-rules/ does not load');
  const tSetup = performance.now();
  const fleet = loadFleet(nDevices);
  const rounds = Math.max(1, Math.ceil(nMessages / nDevices));
  const warm = generateRounds(fleet, 1, alertEvery);
  const measured = generateRounds(fleet, rounds, alertEvery, 60);
  const last = measured[measured.length - 1] as Round;
  const cut = nMessages - (rounds - 1) * nDevices;
  measured[measured.length - 1] = { topics: last.topics.slice(0, cut), data: last.data.slice(0, cut) };
  const kinds: Record<string, number> = {};
  for (const d of fleet.devices) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
  const bytes = measured.reduce((s, r) => s + r.data.reduce((t, x) => t + x.length, 0), 0) / nMessages + 40;
  console.log(`hot path: ${nDevices} devices (${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}), ${nMessages} messages of ~${Math.round(bytes)} bytes, ${rules.rules.byId.size} rules, store ${values.store}; groups of ${CHUNK}${GAP_MS > 0 ? ` ${GAP_MS} ms apart (${SPIN ? 'spinning' : 'sleeping'})` : ' back to back'}; setup ${Math.round(performance.now() - tSetup)} ms; node ${process.version}`);

  let session: Session | undefined;
  if (values.profile) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
  }
  const results: RunResult[] = [];
  for (let k = 0; k < repeat; k++) {
    for (const v of variants) {
      const r = await runVariant(v, fleet, rules.rules, warm, measured, { store: values.store as StoreKind, session });
      results.push(r);
      console.log(`  run ${k + 1} ${v.padEnd(10)} ${r.cpuUsPerMsg.toFixed(1).padStart(6)} µs CPU/msg  ${Math.round(r.msgsPerS).toString().padStart(7)} msg/s  accepted ${r.accepted} rejected ${r.rejected} alert events ${r.alertEvents}`);
    }
  }
  console.log('\nmedian of %d runs:\n', repeat);
  console.log('| variant | µs CPU / msg | µs user / msg | msg/s | what runs |');
  console.log('|---|---:|---:|---:|---|');
  const summary = variants.map((v) => {
    const rs = results.filter((r) => r.variant === v);
    return { variant: v, cpuUsPerMsg: median(rs.map((r) => r.cpuUsPerMsg)), userUsPerMsg: median(rs.map((r) => r.userUsPerMsg)), msgsPerS: median(rs.map((r) => r.msgsPerS)) };
  });
  for (const s of summary) console.log(`| ${s.variant} | ${s.cpuUsPerMsg.toFixed(1)} | ${s.userUsPerMsg.toFixed(1)} | ${Math.round(s.msgsPerS)} | ${VARIANTS[s.variant]} |`);
  if (session && values.profile) {
    writeFileSync(values.profile, JSON.stringify(merged));
    console.log(`\nCPU profile of the measured loops: ${values.profile} (summarise: node --import tsx bench/profile-summary.ts ${values.profile})`);
    session.disconnect();
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ devices: nDevices, messages: nMessages, store: values.store, node: process.version, results, summary }, null, 2)}\n`);
  stopInfluxSink();
}

async function stopProfile(session: Session | undefined): Promise<void> {
  if (session) mergeProfile((await session.post('Profiler.stop')).profile);
}

/** Profiles of the measured loops, concatenated into one (samples and time deltas appended). */
let merged: { nodes: unknown[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number } | undefined;
interface RawProfile {
  nodes: { id: number; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}
function mergeProfile(p: RawProfile): void {
  if (!merged) {
    merged = { nodes: p.nodes, samples: p.samples ?? [], timeDeltas: p.timeDeltas ?? [], startTime: p.startTime, endTime: p.endTime };
    return;
  }
  const offset = merged.nodes.length === 0 ? 0 : Math.max(...(merged.nodes as { id: number }[]).map((n) => n.id));
  for (const n of p.nodes) merged.nodes.push({ ...n, id: n.id + offset, children: n.children?.map((c) => c + offset) });
  for (const s of p.samples ?? []) merged.samples.push(s + offset);
  for (const d of p.timeDeltas ?? []) merged.timeDeltas.push(d);
  merged.endTime += p.endTime - p.startTime;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
