import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gatewayCounters, totalRejected, type GatewayCounters } from '../../src/loadtest/gateway-metrics.js';
import { wallNow } from '../../src/loadtest/publisher.js';
import { REPO_ROOT } from '../../test/helpers/gateway.js';
import { spawnGateway } from '../../test/helpers/proc-gateway.js';
import { waitFor } from '../../test/helpers/services.js';
import type { ChildLine } from './child-protocol.js';

// The systems the bench compares, each a separate process consuming the same broker: (a) a bare subscriber,
// (b) a naive pipeline, (c) riskgate with SQLite, (d) riskgate with InfluxDB, and (n) Node-RED (bench/lib/nodered.ts).
// One interface: how many readings it has processed, what it stored, and when it observed what (alert transitions, or
// delivery samples for (a)).

/** Something a consumer saw, with when (wall ms): an alert transition, or (a) a message's delivery. */
export interface Observation {
  tenant: string;
  deviceId: string;
  /** Device time of the reading that caused it. */
  ts: number;
  atMs: number;
}

export interface Consumer {
  id: 'a' | 'b' | 'c' | 'd' | 'n';
  name: string;
  /** The consuming process (for /proc/<pid>/stat). */
  pid: number;
  /** What its latency measures: an alert reaching an observer, or (a) a message reaching the subscriber. */
  latencyKind: 'alert' | 'delivery';
  /** Readings processed so far (accepted, for riskgate), and the wall time that count is of (a child reports every 100 ms). */
  processed(): Promise<{ count: number; atMs: number }>;
  /** Points acknowledged by its store so far; undefined when it has none. */
  stored(): Promise<number | undefined>;
  /** riskgate: readings accepted and rejected (by reason) so far; undefined for systems that validate nothing. */
  rejected(): Promise<{ accepted: number; rejected: Record<string, number> } | undefined>;
  observations(): Observation[];
  stop(): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';

/** A child process of the bench (bench/<script> under tsx) speaking bench/lib/child-protocol.ts on stdout. */
export interface BenchChild {
  pid: number;
  processed(): { count: number; atMs: number };
  written(): number;
  observations: Observation[];
  stop(): Promise<void>;
}

/** Spawns bench/<script> (tsx), follows its stdout protocol, and resolves once it said it is ready. */
export async function spawnBenchChild(script: string, args: string[]): Promise<BenchChild> {
  const nodeArgs = ['--import', 'tsx', join(REPO_ROOT, 'bench', script), ...args];
  const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const proc = spawn(command, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let ready = false;
  let processed = { count: 0, atMs: 0 };
  let written = 0;
  const obs: Observation[] = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const msg = JSON.parse(line) as ChildLine;
    if (msg.type === 'ready') ready = true;
    else if (msg.type === 'stats') {
      processed = { count: msg.processed, atMs: msg.at };
      written = msg.written;
    } else for (const [tenant, deviceId, ts, atMs] of msg.o) obs.push({ tenant, deviceId, ts, atMs });
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`${script} exited (${proc.exitCode}): ${stderr}`);
      return ready;
    }, { timeoutMs: 30_000, intervalMs: 50, what: `${script} to be ready` });
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: proc.pid as number, processed: () => processed, written: () => written, observations: obs, stop };
}

/** Spawns a bench consumer script. */
async function nodeConsumer(id: 'a' | 'b', name: string, script: string, args: string[]): Promise<Consumer> {
  const child = await spawnBenchChild(script, args);
  return {
    id,
    name,
    pid: child.pid,
    latencyKind: id === 'a' ? 'delivery' : 'alert',
    processed: async () => child.processed(),
    stored: async () => (id === 'b' ? child.written() : undefined),
    rejected: async () => undefined,
    observations: () => child.observations,
    stop: child.stop,
  };
}

/** (a) the floor: parse and count. */
export function startBaseline(brokerUrl: string, qos: 0 | 1): Promise<Consumer> {
  return nodeConsumer('a', 'bare mqtt.js subscriber (JSON.parse only)', 'baseline-subscriber.ts', ['--broker', brokerUrl, '--qos', String(qos)]);
}

/** (b) mqtt.js → JSON.parse → threshold → batched line protocol to InfluxDB. */
export function startNaive(brokerUrl: string, influxUrl: string, qos: 0 | 1): Promise<Consumer> {
  return nodeConsumer('b', 'naive pipeline (mqtt.js → threshold → InfluxDB)', 'naive-pipeline.ts', ['--broker', brokerUrl, '--influx', influxUrl, '--qos', String(qos)]);
}

/** (c) / (d): the gateway as a process (`node --import tsx src/server.ts`) on the external broker, watched on its stream. */
export async function startRiskgate(id: 'c' | 'd', opts: { brokerUrl: string; seedPath: string; influxUrl?: string }): Promise<Consumer> {
  const dataDir = mkdtempSync(join(tmpdir(), `rg-bench-${id}-`));
  const gw = await spawnGateway({
    dataDir,
    // e.g. RG_BENCH_GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the gateway through a bench run.
    nodeArgs: process.env.RG_BENCH_GATEWAY_NODE_ARGS?.split(' ').filter((a) => a !== ''),
    env: {
      MQTT_URL: opts.brokerUrl,
      MQTT_CLIENT_ID: `rg-bench-${id}-${process.pid}`,
      REGISTRY_SEED: opts.seedPath,
      LOG_LEVEL: 'warn',
      RULES_HOT_RELOAD: 'false',
      // One device sends up to (top step ÷ devices) messages a second: never refused as rate_limited here.
      INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '1000000',
      // The fleet's devices cross the threshold again and again: counted as flapping, their transitions would be held.
      ALERT_FLAP_FLIPS: '1000000',
      // e.g. RG_BENCH_GATEWAY_ENV='MQTT_GROUP_COMMIT_MS=0': settings to try on top of these.
      ...Object.fromEntries((process.env.RG_BENCH_GATEWAY_ENV ?? '').split(' ').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
      ...(opts.influxUrl ? { INFLUX_URL: opts.influxUrl, INFLUX_DATABASE: 'riskgate' } : {}),
    },
  });
  try {
    await waitFor(() => /rgt_[A-Za-z0-9_-]{40,}/.test(gw.logs()), { timeoutMs: 10_000, intervalMs: 50, what: 'the bootstrap token' });
    const token = (/rgt_[A-Za-z0-9_-]{40,}/.exec(gw.logs()) as RegExpExecArray)[0];
    // Alerts are stamped by bench/stream-observer.ts, a client in a process of its own (see there why).
    const observer = await spawnBenchChild('stream-observer.ts', ['--riskgate', gw.httpUrl, '--token', token]);
    const scrape = async (): Promise<GatewayCounters> => gatewayCounters(await gw.metricsText());
    return {
      id,
      name: opts.influxUrl ? 'riskgate, InfluxDB 1.x store' : 'riskgate, SQLite store',
      pid: gw.pid,
      latencyKind: 'alert',
      // Accepted + rejected: every reading it has dealt with (a reject is a bug of the bench's stream, reported apart).
      // Stamped midway through the scrape: the count is of some moment while the request was being served.
      processed: async () => {
        const t0 = wallNow();
        const c = await scrape();
        return { count: c.accepted + totalRejected(c), atMs: (t0 + wallNow()) / 2 };
      },
      stored: async () => (await scrape()).stored,
      rejected: async () => {
        const c = await scrape();
        return { accepted: c.accepted, rejected: c.rejected };
      },
      observations: () => observer.observations,
      stop: async () => {
        await observer.stop();
        await gw.kill('SIGTERM');
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await gw.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
