// The gateway as a child process (`node --import tsx src/server.ts`), for tests that kill it (-9), stop it, or
// measure it from the outside: spawn and readiness, a bounded log tail, /metrics scraping, /proc/<pid>/status
// memory figures, and finding (to SIGSTOP) a service process the test itself started.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './gateway.js';
import { freePort } from './ports.js';
import { waitFor } from './services.js';

const SETPRIV = '/usr/bin/setpriv';
/** Most log text kept per gateway process (the tail is what explains a failure). */
const LOG_TAIL_CHARS = 256 * 1024;

export interface GatewayProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly httpPort: number;
  readonly httpUrl: string;
  /** The last LOG_TAIL_CHARS of stdout + stderr (pino JSON lines). */
  logs(): string;
  /** GET /metrics (Prometheus text), bounded to 5 s. */
  metricsText(): Promise<string>;
  /** One metric from a fresh scrape: the sum of its samples matching `labels` (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** True until the process has exited. */
  alive(): boolean;
  /** Sends `signal` and resolves once the process has exited (at once when it already has). */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface SpawnGatewayOptions {
  /** DATA_DIR, kept across restarts by the caller. */
  dataDir: string;
  /** Settings on top of the loopback defaults (HTTP on a free port, LOG_LEVEL info). */
  env: Record<string, string>;
  /** How long to wait for /readyz 200. Default 45 s (tsx compiles the sources on a cold start). */
  readyTimeoutMs?: number;
  /** Node flags before the script, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/**
 * Spawns the gateway and waits until /readyz answers 200. With util-linux's setpriv the kernel SIGKILLs the child
 * should the test process die without cleaning up; setpriv execs, so the pid is the gateway's own.
 */
export async function spawnGateway(opts: SpawnGatewayOptions): Promise<GatewayProcess> {
  const httpPort = await freePort();
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const nodeArgs = [...(opts.nodeArgs ?? []), '--import', 'tsx', join(REPO_ROOT, 'src/server.ts')];
  const [command, args] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const proc = spawn(command, args, {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      DATA_DIR: opts.dataDir,
      LOG_LEVEL: 'info',
      // Loopback only, and no fixed port shared with other tests: the JT/T 808 server would listen on 0.0.0.0:7611.
      JT808_ENABLED: 'false',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (d: Buffer): void => {
    log += d.toString();
    if (log.length > LOG_TAIL_CHARS * 2) log = log.slice(-LOG_TAIL_CHARS);
  };
  proc.stdout?.on('data', append);
  proc.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const metricsText = async (): Promise<string> => {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  };
  const gw: GatewayProcess = {
    proc,
    pid: proc.pid as number,
    httpPort,
    httpUrl,
    logs: () => log.slice(-LOG_TAIL_CHARS),
    metricsText,
    metric: async (name, labels) => metricValue(await metricsText(), name, labels),
    alive,
    kill: async (signal) => {
      if (!alive()) return;
      proc.kill(signal);
      await exited;
    },
  };
  try {
    // An early exit (bad configuration, port in use) fails at once instead of after the timeout.
    const died = exited.then(() => {
      throw new Error(`the gateway exited before it was ready (code ${proc.exitCode}, signal ${proc.signalCode})`);
    });
    died.catch(() => undefined);
    await Promise.race([
      died,
      waitFor(async () => alive() && (await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).status === 200, {
        timeoutMs: opts.readyTimeoutMs ?? 45_000,
        intervalMs: 100,
        what: 'the gateway process to be ready',
      }),
    ]);
  } catch (err) {
    await gw.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- gateway log tail\n${log.slice(-4_000)}`, { cause: err });
  }
  return gw;
}

/** Sum of the samples of `name` in Prometheus text whose labels include `labels`; 0 when there are none. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Resident set size now and its high-water mark, KiB, from /proc/<pid>/status (undefined once the process is gone). */
export function procMemoryKb(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (key: string): number => Number((new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status) ?? [])[1] ?? Number.NaN);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * The pid of a direct child of this (test) process whose executable name is `comm` and whose command line contains
 * `argIncludes` — e.g. the influxd started by startInfluxd(), to SIGSTOP it. Throws when there is not exactly one.
 */
export function findChildPid(comm: string, argIncludes: (cmdline: string[]) => boolean = () => true): number {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces and parentheses, so split at the last ')'.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (name !== comm || ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argIncludes(cmdline)) found.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  if (found.length !== 1) throw new Error(`expected one child process "${comm}" of pid ${process.pid}, found ${found.length} (${found.join(', ')})`);
  return found[0] as number;
}

/**
 * The pid of the local influxd listening on `port` (started by startInfluxd() in this process): its command line
 * names its config file, whose [http] bind-address holds the port. Throws under Docker (no local child).
 */
export function findInfluxdPid(port: number): number {
  return findChildPid('influxd', (cmdline) => {
    const i = cmdline.indexOf('-config');
    const conf = i >= 0 ? cmdline[i + 1] : undefined;
    return conf !== undefined && readFileSync(conf, 'utf8').includes(`:${port}"`);
  });
}
