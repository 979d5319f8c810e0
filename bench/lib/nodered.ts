import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { wallNow } from '../../src/loadtest/publisher.js';
import { REPO_ROOT } from '../../test/helpers/gateway.js';
import { waitFor } from '../../test/helpers/services.js';
import { spawnBenchChild, type BenchChild, type Consumer } from './consumers.js';

// Bench system (n): Node-RED running bench/nodered/flow.json —
//
//   mqtt in (rg/v1/#, the bench's QoS) → json → function "threshold + batch" ─┬─ output 1 → influxdb batch (own database `nodered`)
//                                                                            └─ output 2 → websocket out (listen, /rg-bench)
//
// The function keeps the naive script's threshold per device (concentration_lel ≥ 25 raises, < 22 clears) and
// emits each transition on output 2; it buffers one point per reading and emits them as one batch every 5000 points
// or 1 s (node-red-contrib-influxdb's `influxdb batch` node writes a batch per message). Alert transitions reach the
// bench over a `websocket out` node in listen mode, the same transport as riskgate's alert stream, so latency is
// publish → transition received by a WebSocket client in both; `tcp out` would need framing of our own. The same
// socket carries the function's count of readings every 100 ms (`processed`). What it stored is read from influxd
// itself (/debug/vars: writePointsOk of the database's shards), since the batch node reports nothing.
//
// Node-RED is not a dependency of the project: it is installed on demand with npm into a cache dir outside the repo
// (~/.cache/riskgate-bench/node-red-<version>, reused when present) and started as its own process
// (`node red.js --settings bench/nodered/settings.cjs`, userDir a temp dir), so /proc/<pid>/stat is its CPU alone.
// node-red 5.x requires Node ≥ 22.9; the 4.1 line is the newest that supports the Node 20 this repo runs on.

/** Pinned versions of what the bench installs. */
export const NODE_RED_VERSION = '4.1.8';
export const NODE_RED_INFLUXDB_VERSION = '0.7.0';
const DATABASE = 'nodered';
const WS_PATH = '/rg-bench';
const SETPRIV = '/usr/bin/setpriv';

/** Where Node-RED is (or would be) installed. */
export function nodeRedCacheDir(): string {
  return join(homedir(), '.cache', 'riskgate-bench', `node-red-${NODE_RED_VERSION}-influxdb-${NODE_RED_INFLUXDB_VERSION}`);
}

/** Installs Node-RED and node-red-contrib-influxdb into the cache dir unless they are there; the cache dir, or why not. */
export async function ensureNodeRed(log: (line: string) => void): Promise<{ dir: string } | { error: string }> {
  const dir = nodeRedCacheDir();
  const red = join(dir, 'node_modules/node-red/red.js');
  const contrib = join(dir, 'node_modules/node-red-contrib-influxdb/package.json');
  if (existsSync(red) && existsSync(contrib)) return { dir };
  mkdirSync(dir, { recursive: true });
  log(`bench: installing node-red@${NODE_RED_VERSION} node-red-contrib-influxdb@${NODE_RED_INFLUXDB_VERSION} into ${dir}`);
  const args = ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', dir, `node-red@${NODE_RED_VERSION}`, `node-red-contrib-influxdb@${NODE_RED_INFLUXDB_VERSION}`];
  const err = await new Promise<string | undefined>((resolve) =>
    execFile('npm', args, { timeout: 300_000, maxBuffer: 16 * 2 ** 20 }, (e, _out, stderr) =>
      resolve(e ? `npm ${args.slice(-2).join(' ')} (exit ${e.code ?? e.signal}): ${stderr.split('\n').filter((l) => l.replace(/^npm error\s*/, '') !== '').slice(0, 3).join(' | ')}` : undefined),
    ),
  );
  if (err !== undefined) return { error: `npm install failed: ${err}` };
  if (!existsSync(red) || !existsSync(contrib)) return { error: `npm install left no ${red}` };
  return { dir };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Points influxd acknowledged into `database` (writePointsOk over its shards, /debug/vars). */
export async function influxdPointsWritten(influxUrl: string, database: string): Promise<number> {
  const res = await fetch(`${influxUrl}/debug/vars`, { signal: AbortSignal.timeout(5_000) });
  const vars = (await res.json()) as Record<string, { name?: string; tags?: Record<string, string> | null; values?: Record<string, number> } | null>;
  let n = 0;
  for (const v of Object.values(vars)) if (v?.name === 'shard' && v.tags?.database === database) n += v.values?.writePointsOk ?? 0;
  return n;
}

/** (n) Node-RED with bench/nodered/flow.json, installed under `dir` (see {@link ensureNodeRed}). */
export async function startNodeRed(dir: string, opts: { brokerUrl: string; influxUrl: string; qos: 0 | 1 }): Promise<Consumer> {
  await fetch(`${opts.influxUrl}/query?q=${encodeURIComponent(`CREATE DATABASE "${DATABASE}"`)}`, { method: 'POST' });
  const userDir = mkdtempSync(join(tmpdir(), 'rg-bench-nodered-'));
  copyFileSync(join(REPO_ROOT, 'bench/nodered/flow.json'), join(userDir, 'flows.json'));
  // Node-RED loads node modules from <userDir>/node_modules.
  symlinkSync(join(dir, 'node_modules'), join(userDir, 'node_modules'), 'dir');
  const port = await freePort();
  const nodeArgs = [join(dir, 'node_modules/node-red/red.js'), '--settings', join(REPO_ROOT, 'bench/nodered/settings.cjs'), '--userDir', userDir];
  const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const proc = spawn(command, argv, {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      RG_BENCH_NR_USERDIR: userDir,
      RG_BENCH_NR_PORT: String(port),
      RG_BENCH_MQTT_PORT: new URL(opts.brokerUrl).port,
      RG_BENCH_INFLUX_PORT: new URL(opts.influxUrl).port,
      RG_BENCH_QOS: String(opts.qos),
      NODE_ENV: 'production',
    },
  });
  let output = '';
  const keep = (d: Buffer): void => void (output = (output + d.toString()).slice(-4000));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let processed = { count: 0, atMs: 0 };
  let ws: WebSocket | undefined;
  let observer: BenchChild | undefined;
  let stored0 = 0;
  const cleanup = async (): Promise<void> => {
    ws?.terminate();
    await observer?.stop();
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    // Ready = the flow's WebSocket listener answers and the function has reported (the flow is running).
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`node-red exited (${proc.exitCode}): ${output}`);
        if (ws === undefined || ws.readyState === WebSocket.CLOSED) {
          const sock = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`);
          sock.on('error', () => undefined);
          sock.on('message', (data: Buffer) => {
            const at = wallNow();
            const m = JSON.parse(data.toString('utf8')) as { t: 'stats'; processed: number } | { t: 'alert'; tenant: string; device: string; ts: number; what: string };
            // Transitions are stamped by bench/stream-observer.ts in a process of its own (see there why).
            if (m.t === 'stats') processed = { count: m.processed, atMs: at };
          });
          ws = sock;
        }
        return processed.atMs > 0;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'node-red to run the flow' },
    );
    observer = await spawnBenchChild('stream-observer.ts', ['--nodered', `ws://127.0.0.1:${port}${WS_PATH}`]);
    // Subscribed: mqtt in connects right after the flow starts; give it a moment (the bench warms up anyway).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stored0 = await influxdPointsWritten(opts.influxUrl, DATABASE);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    id: 'n',
    name: `Node-RED ${NODE_RED_VERSION} (mqtt in → json → function → influxdb batch)`,
    pid: proc.pid as number,
    latencyKind: 'alert',
    processed: async () => processed,
    stored: async () => (await influxdPointsWritten(opts.influxUrl, DATABASE)) - stored0,
    rejected: async () => undefined,
    observations: () => (observer as BenchChild).observations,
    stop: cleanup,
  };
}
