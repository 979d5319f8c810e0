/**
 * JT/T 808 capacity measurement (docs/jt808.md "Load"): for each N, a gateway process with N registered vehicles,
 * N simulated terminals (src/loadtest/jt808-load.ts, split over loader processes of at most `--per-loader` sockets)
 * reporting every `--interval` for `--duration`; then every acknowledged location must be in the store.
 *
 *   node --import tsx bench/jt808-load.ts [--terminals 1000,5000,10000,19500] [--interval 10s] [--duration 60s]
 *        [--per-loader 10000] [--out bench/out/jt808-load.json]
 *
 * A run holds when every location sent was acknowledged (0x8001 result 0), nothing failed, and the store holds
 * exactly as many points as were acknowledged (`riskgate_points_written_total` and a COUNT(*) of readings.db after
 * the gateway stopped). Not a vitest test: it runs minutes and wants the machine to itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { parseDurationMs } from '../src/lib/duration.js';
import { jt808LoadSeedYaml, runJt808Load, type Jt808LoadResult } from '../src/loadtest/jt808-load.js';

const ROOT = resolve(import.meta.dirname, '..');
const TENANT = 'jt808-load';

const { values } = parseArgs({
  options: {
    terminals: { type: 'string', default: '1000,5000,10000,19500' },
    interval: { type: 'string', default: '10s' },
    duration: { type: 'string', default: '60s' },
    'per-loader': { type: 'string', default: '10000' },
    out: { type: 'string', default: join(ROOT, 'bench/out/jt808-load.json') },
    // Loader process mode (spawned by the bench itself).
    worker: { type: 'boolean', default: false },
    port: { type: 'string' },
    'first-index': { type: 'string', default: '0' },
  },
});

const ms = (v: string): number => {
  const n = parseDurationMs(v);
  if (n === undefined) throw new Error(`not a duration: ${v}`);
  return n;
};

if (values.worker) {
  // One loader: its slice of the fleet; the result as one JSON line on stdout.
  const r = await runJt808Load({
    host: '127.0.0.1',
    port: Number(values.port),
    terminals: Number(values.terminals),
    firstIndex: Number(values['first-index']),
    intervalMs: ms(values.interval as string),
    durationMs: ms(values.duration as string),
    connectConcurrency: 200,
    log: (line) => process.stderr.write(`[loader ${values['first-index']}] ${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Prometheus text → sum of the series of `name` whose labels include `labels`. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([-0-9.e+Na]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[3] ?? '').includes(`${k}="${v}"`))) total += Number(m[4]);
  }
  return total;
}

async function scrape(httpPort: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
}

const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

function childOutput(proc: ChildProcess): Promise<string> {
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res) => proc.once('exit', () => res(out)));
}

interface RunResult {
  terminals: number;
  loaders: number;
  load: Omit<Jt808LoadResult, 'terminals'>;
  gateway: {
    jt808Locations: number;
    readingsAccepted: number;
    readingsRejected: number;
    pointsWritten: number;
    storedRows: number;
    closedByReason: Record<string, number>;
    peakConnections: number;
    cpuSeconds: number;
    peakRssMb: number;
    peakEventLoopP99Ms: number;
  };
  held: boolean;
  storedPerS: number;
  problems: string[];
}

async function runOnce(n: number, intervalMs: number, durationMs: number, perLoader: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-jt808-bench-'));
  const seed = join(dir, 'seed.yaml');
  writeFileSync(seed, jt808LoadSeedYaml({ terminals: n, tenant: TENANT }));
  const [httpPort, jt808Port] = [await freePort(), await freePort()];
  const gw = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/server.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      MQTT_BROKER_HOST: '127.0.0.1',
      MQTT_BROKER_PORT: '0',
      JT808_HOST: '127.0.0.1',
      JT808_PORT: String(jt808Port),
      JT808_MAX_CONNECTIONS: String(n + 100),
      DATA_DIR: join(dir, 'data'),
      REGISTRY_SEED: seed,
      RULES_HOT_RELOAD: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let gwLog = '';
  gw.stderr?.on('data', (d: Buffer) => (gwLog = (gwLog + d.toString()).slice(-20_000)));
  const gwExit = new Promise<number | null>((res) => gw.once('exit', (code) => res(code)));
  const problems: string[] = [];
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (gw.exitCode !== null || Date.now() > deadline) throw new Error(`gateway did not become ready:\n${gwLog}`);
      await sleep(250);
    }
    const before = await scrape(httpPort);
    const cpu0 = metric(before, 'riskgate_process_cpu_seconds_total');

    const loaders = Math.ceil(n / perLoader);
    const outputs: Promise<string>[] = [];
    for (let k = 0; k < loaders; k++) {
      const first = k * perLoader;
      const count = Math.min(perLoader, n - first);
      const proc = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'bench/jt808-load.ts'), '--worker', '--port', String(jt808Port), '--first-index', String(first), '--terminals', String(count), '--interval', `${intervalMs}ms`, '--duration', `${durationMs}ms`],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      outputs.push(childOutput(proc));
    }
    // Sample the gateway while the loaders run.
    let peakConnections = 0;
    let peakRss = 0;
    let peakLag = 0;
    let done = false;
    const all = Promise.all(outputs).finally(() => (done = true));
    while (!done) {
      await Promise.race([all, sleep(5000)]);
      const t = await scrape(httpPort).catch(() => '');
      peakConnections = Math.max(peakConnections, metric(t, 'riskgate_jt808_connections'));
      peakRss = Math.max(peakRss, metric(t, 'riskgate_process_resident_memory_bytes'));
      peakLag = Math.max(peakLag, metric(t, 'riskgate_nodejs_eventloop_lag_p99_seconds'));
    }
    const results = (await all).map((o) => JSON.parse(o.trim().split('\n').pop() as string) as Jt808LoadResult);
    const load = results.reduce(
      (a, r) => {
        for (const k of Object.keys(a) as (keyof typeof a)[]) a[k] = k === 'loginMs' || k === 'reportingMs' ? Math.max(a[k], r[k]) : a[k] + r[k];
        return a;
      },
      { connected: 0, authenticated: 0, connectErrors: 0, loginErrors: 0, locationsSent: 0, locationsAcked: 0, locationsRefused: 0, repliesReceived: 0, timeouts: 0, disconnected: 0, errors: 0, loginMs: 0, reportingMs: 0, ackedPerS: 0 },
    );
    // Let the store catch up: points written stops moving and nothing is pending.
    let text = await scrape(httpPort);
    for (let i = 0; i < 120; i++) {
      if (metric(text, 'riskgate_store_pending_points') === 0 && metric(text, 'riskgate_points_written_total') >= load.locationsAcked) break;
      await sleep(500);
      text = await scrape(httpPort);
    }
    const closedByReason: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const m = /^riskgate_jt808_connections_closed_total\{reason="([a-z_]+)"\} (\d+)/.exec(line);
      if (m) closedByReason[m[1] as string] = Number(m[2]);
    }
    const gateway = {
      jt808Locations: metric(text, 'riskgate_jt808_locations_total'),
      readingsAccepted: metric(text, 'riskgate_readings_accepted_total', { kind: 'vehicle' }),
      readingsRejected: metric(text, 'riskgate_readings_rejected_total'),
      pointsWritten: metric(text, 'riskgate_points_written_total'),
      storedRows: 0,
      closedByReason,
      peakConnections,
      cpuSeconds: Math.round((metric(text, 'riskgate_process_cpu_seconds_total') - cpu0) * 10) / 10,
      peakRssMb: Math.round(peakRss / 1_048_576),
      peakEventLoopP99Ms: Math.round(peakLag * 1000),
    };
    gw.kill('SIGTERM');
    await gwExit;
    const db = new Database(join(dir, 'data/readings.db'), { readonly: true });
    gateway.storedRows = (db.prepare('SELECT COUNT(*) AS n FROM points WHERE measurement = ? AND tenant = ?').get('vehicle', TENANT) as { n: number }).n;
    db.close();

    if (load.authenticated !== n) problems.push(`${n - load.authenticated} terminals not authenticated`);
    if (load.errors !== 0) problems.push(`${load.errors} load errors`);
    if (load.locationsAcked !== load.locationsSent) problems.push(`${load.locationsSent - load.locationsAcked} locations not acknowledged`);
    if (gateway.readingsRejected !== 0) problems.push(`${gateway.readingsRejected} readings rejected`);
    if (gateway.storedRows !== load.locationsAcked) problems.push(`stored ${gateway.storedRows} of ${load.locationsAcked} acknowledged locations`);
    const { ackedPerS: _ignored, ...rest } = load;
    return { terminals: n, loaders, load: { ...rest, ackedPerS: Math.round((load.locationsAcked / (load.reportingMs / 1000)) * 10) / 10 }, gateway, held: problems.length === 0, storedPerS: Math.round((gateway.storedRows / (load.reportingMs / 1000)) * 10) / 10, problems };
  } finally {
    if (gw.exitCode === null) {
      gw.kill('SIGKILL');
      await gwExit;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = (values.terminals as string).split(',').map((s) => Number(s.trim()));
const intervalMs = ms(values.interval as string);
const durationMs = ms(values.duration as string);
const perLoader = Number(values['per-loader']);
const runs: RunResult[] = [];
for (const n of sizes) {
  process.stderr.write(`\n=== ${n} terminals, every ${intervalMs / 1000} s for ${durationMs / 1000} s ===\n`);
  let r: RunResult;
  try {
    r = await runOnce(n, intervalMs, durationMs, perLoader);
  } catch (err) {
    process.stderr.write(`run failed: ${(err as Error).message}\n`);
    break;
  }
  runs.push(r);
  process.stderr.write(`${JSON.stringify(r, null, 2)}\n`);
  if (!r.held) break; // a larger N will not hold either
}
const header = '| terminals | loaders | login s | sent | acked | stored | lost | errors | stored/s | gateway CPU s | peak RSS MB | peak loop p99 ms | held |';
const rows = runs.map(
  (r) =>
    `| ${r.terminals} | ${r.loaders} | ${(r.load.loginMs / 1000).toFixed(1)} | ${r.load.locationsSent} | ${r.load.locationsAcked} | ${r.gateway.storedRows} | ${r.load.locationsSent - r.gateway.storedRows} | ${r.load.errors} | ${r.storedPerS} | ${r.gateway.cpuSeconds} | ${r.gateway.peakRssMb} | ${r.gateway.peakEventLoopP99Ms} | ${r.held ? 'yes' : `no: ${r.problems.join('; ')}`} |`,
);
process.stdout.write(`${[header, header.replace(/[^|]+/g, '---'), ...rows].join('\n')}\n`);
const best = runs.filter((r) => r.held).pop();
process.stdout.write(best ? `largest N held: ${best.terminals} terminals, ${best.storedPerS} locations/s stored\n` : 'no run held\n');
mkdirSync(dirname(values.out as string), { recursive: true });
writeFileSync(values.out as string, `${JSON.stringify({ at: new Date().toISOString(), intervalMs, durationMs, runs }, null, 2)}\n`);
