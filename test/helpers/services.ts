// Real Mosquitto, InfluxDB 1.x and VictoriaMetrics for integration tests: local Debian binaries on
// free loopback ports in temp dirs, or testcontainers when a Docker engine answers.
// One file on purpose, so tests import one module; it runs past 400 lines because it holds three
// services × two back-ends plus the process plumbing (readiness, log tails, cleanup on any exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StartedTestContainer } from 'testcontainers';

/** A service listening on loopback (or a Docker-mapped port). */
export interface RunningService {
  host: string;
  port: number;
  /** `mqtt://host:port` or `http://host:port`, no trailing slash. */
  url: string;
  /** Stops the service and deletes its data. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A service that can be stopped and started again on the same port with the same data directory (local processes
 * only: with testcontainers, `pause`/`resume` throw).
 */
export interface PausableService extends RunningService {
  /** Graceful stop (SIGTERM, SIGKILL after 10 s) that keeps the port and the data directory. Idempotent. */
  pause(): Promise<void>;
  /** Starts the paused service again on the same port and data directory; resolves once it is ready. Idempotent. */
  resume(): Promise<void>;
}

/** Mosquitto can be restarted on the same port with the same persistence directory. */
export interface RunningMosquitto extends PausableService {
  /** Graceful stop (Mosquitto writes its persistence file), then start again on the same port and dir. */
  restart(): Promise<void>;
}

/** InfluxDB 1.x that can be stopped and started again on the same port and data directory (a store outage). */
export type RunningInfluxd = PausableService;

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Pause between attempts, in milliseconds. */
  intervalMs: number;
  /** Named in the timeout error, e.g. `'the alert to reach the store'`. */
  what: string;
}

/** How long a service may take to become ready, in milliseconds. */
const READY_TIMEOUT_MS = 20_000;
/** How long after SIGTERM before SIGKILL, in milliseconds. */
const STOP_GRACE_MS = 10_000;
const HOST = '127.0.0.1';
// Debian keeps daemons in sbin, which non-root PATHs often omit.
const EXTRA_BIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];
const SETPRIV = '/usr/bin/setpriv';

/**
 * Polls `fn` until it returns true. A throw counts as "not yet" (the last error is reported on
 * timeout), so `fn` may fetch from a port that is not listening yet. `fn` must bound its own
 * duration (e.g. `AbortSignal.timeout`), as an attempt in flight is not interrupted.
 */
export async function waitFor(fn: () => Promise<boolean> | boolean, opts: WaitForOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${errorMessage(lastError)})`;
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${cause}`, { cause: lastError });
    }
    await sleep(opts.intervalMs);
  }
}

/** Further Mosquitto configuration for {@link startMosquitto}. */
export interface MosquittoExtraConfig {
  /**
   * Lines appended after the defaults; for a global option the later line wins (e.g. `allow_anonymous false`).
   * `{config_dir}` stands for the directory the files below are written to.
   */
  lines: string[];
  /** Files written beside mosquitto.conf, name → content (e.g. a password file and an ACL file). */
  files?: Record<string, string>;
}

/**
 * Mosquitto 2 allowing anonymous clients (unless `extraConfig` says otherwise), with persistence, so
 * QoS1 messages for clean:false sessions survive {@link RunningMosquitto.restart}. `opts.port` defaults
 * to a free port.
 */
export async function startMosquitto(opts: { port?: number; extraConfig?: MosquittoExtraConfig } = {}): Promise<RunningMosquitto> {
  const extra = opts.extraConfig;
  const conf = (listener: string, dataDir: string, logDest: string, configDir: string): string =>
    [
      `listener ${listener}`,
      'allow_anonymous true',
      'set_tcp_nodelay true',
      'persistence true',
      `persistence_location ${dataDir}`, // must end with '/'
      'max_queued_messages 1000000', // QoS1 persistent sessions must not drop while a subscriber is away
      `log_dest ${logDest}`,
      ...(extra?.lines ?? []).map((line) => line.replaceAll('{config_dir}', configDir)),
    ].join('\n') + '\n';

  if (await dockerAvailable()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const hostPort = opts.port ?? (await freePorts(1))[0]!;
    // A fixed host binding keeps the port across container.restart().
    const container = await new GenericContainer('eclipse-mosquitto:2')
      .withCopyContentToContainer([
        { content: conf('1883', '/mosquitto/data/', 'stdout', '/mosquitto/config'), target: '/mosquitto/config/mosquitto.conf' },
        // Readable by the image's mosquitto user, which does not own copied files.
        ...Object.entries(extra?.files ?? {}).map(([name, content]) => ({ content, target: `/mosquitto/config/${name}`, mode: 0o644 })),
      ])
      .withExposedPorts({ container: 1883, host: hostPort })
      .withWaitStrategy(Wait.forListeningPorts())
      .withStartupTimeout(60_000)
      .start();
    return { ...fromContainer(container, 1883, 'mqtt'), ...notPausable('mosquitto'), restart: () => container.restart({ timeout: STOP_GRACE_MS }) };
  }

  const bin = findBinary('mosquitto', 'mosquitto');
  const dir = await mkdtemp(join(tmpdir(), 'rg-mosquitto-'));
  const port = opts.port ?? (await freePorts(1))[0]!;
  const confPath = join(dir, 'mosquitto.conf');
  for (const [name, content] of Object.entries(extra?.files ?? {})) await writeFile(join(dir, name), content, { mode: 0o600 });
  const lines = conf(`${port} ${HOST}`, `${dir}/`, `file ${join(dir, 'mosquitto.log')}`, dir);
  // Run as root, Mosquitto would drop to user "mosquitto", which cannot write our 0700 temp dir.
  await writeFile(confPath, process.getuid?.() === 0 ? `${lines}user root\n` : lines);
  const spec: ProcessSpec = {
    name: 'mosquitto',
    bin,
    args: ['-c', confPath],
    dir,
    logFiles: [join(dir, 'mosquitto.log')],
    // A bare TCP check could be answered by whoever else holds the port while Mosquitto fails to bind.
    readyLine: { file: join(dir, 'mosquitto.log'), text: ' running' },
    ready: () => tcpOpen(HOST, port),
  };
  const service = await pausableLocalService('mqtt', port, spec);
  return {
    ...service,
    restart: async () => {
      await service.pause();
      await service.resume();
    },
  };
}

/**
 * InfluxDB 1.x (Debian's 1.6, or influxdb:1.8 in Docker) without auth; ready once GET /ping answers 204. Locally,
 * {@link RunningInfluxd.pause} and `resume` stop and start it on the same port and data directory.
 */
export async function startInfluxd(): Promise<RunningInfluxd> {
  if (await dockerAvailable()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('influxdb:1.8')
      .withEnvironment({
        INFLUXDB_REPORTING_DISABLED: 'true',
        INFLUXDB_MONITOR_STORE_ENABLED: 'false',
        INFLUXDB_HTTP_AUTH_ENABLED: 'false',
        INFLUXDB_HTTP_LOG_ENABLED: 'false',
        INFLUXDB_LOGGING_LEVEL: 'warn',
      })
      .withExposedPorts(8086)
      .withWaitStrategy(Wait.forHttp('/ping', 8086).forStatusCode(204))
      .withStartupTimeout(60_000)
      .start();
    return { ...fromContainer(container, 8086, 'http'), ...notPausable('influxd') };
  }

  const bin = findBinary('influxd', 'influxdb');
  const dir = await mkdtemp(join(tmpdir(), 'rg-influxd-'));
  const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
  const confPath = join(dir, 'influxdb.conf');
  // Unknown keys are ignored by influxd 1.x. Debian's 1.6 build renamed the opt-out
  // `reporting-disabled` to an opt-in `reporting-enabled`; both are set so either build stays quiet.
  await writeFile(
    confPath,
    `reporting-disabled = true
reporting-enabled = false
bind-address = "${HOST}:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[http]
  bind-address = "${HOST}:${httpPort}"
  auth-enabled = false
  log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`,
  );
  const url = `http://${HOST}:${httpPort}`;
  return pausableLocalService('http', httpPort, {
    name: 'influxd',
    bin,
    args: ['run', '-config', confPath],
    dir,
    logFiles: [],
    ready: async () => (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) })).status === 204,
  });
}

/** Single-node VictoriaMetrics; ready once GET /health answers. See the comment inside on write visibility. */
export async function startVictoriaMetrics(): Promise<RunningService> {
  // Neither flag makes a write visible at once: VictoriaMetrics 1.79 buffers rows and new index
  // entries for ~1–6 s. Poll with waitFor, optionally after POST /internal/force_flush.
  const flags = ['-search.latencyOffset=0s', '-search.disableCache'];
  if (await dockerAvailable()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    // Same LTS line as Debian bookworm's 1.79.5, so series naming and field coercion match.
    const container = await new GenericContainer('victoriametrics/victoria-metrics:v1.79.14')
      .withCommand(flags)
      .withExposedPorts(8428)
      .withWaitStrategy(Wait.forHttp('/health', 8428))
      .withStartupTimeout(60_000)
      .start();
    return fromContainer(container, 8428, 'http');
  }

  const bin = findBinary('victoria-metrics', 'victoria-metrics');
  const dir = await mkdtemp(join(tmpdir(), 'rg-victoria-metrics-'));
  const [port] = (await freePorts(1)) as [number];
  const url = `http://${HOST}:${port}`;
  const child = await startLocal({
    name: 'victoria-metrics',
    bin,
    args: [`-storageDataPath=${join(dir, 'data')}`, `-httpListenAddr=${HOST}:${port}`, ...flags],
    dir,
    logFiles: [],
    ready: async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
  });
  return localService('http', port, dir, () => child);
}

// ---- local processes ----

interface ProcessSpec {
  name: string;
  bin: string;
  args: string[];
  /** Temp dir; the child's stdout+stderr go to `process.log` in it. */
  dir: string;
  /** Further log files whose tail explains a failed start. */
  logFiles: string[];
  /** Also required for readiness: `text` appended to `file` by this start (not an earlier one). */
  readyLine?: { file: string; text: string };
  ready: () => Promise<boolean>;
}

// Children still running, with their temp dirs; killed (and the dirs removed) if the test process
// exits without stopping them.
const liveChildren = new Map<ChildProcess, string>();
// Temp dirs of paused services (no child running), removed too if the test process exits meanwhile.
const pausedDirs = new Set<string>();
let exitHookInstalled = false;

function localService(scheme: 'mqtt' | 'http', port: number, dir: string, child: () => ChildProcess): RunningService {
  let stopped = false;
  return {
    host: HOST,
    port,
    url: `${scheme}://${HOST}:${port}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopChild(child());
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `spec` (see {@link startLocal}) as a service that can be paused and resumed on the same port and dir.
 * `stop()` ends it whether running or paused; a `pause` or `resume` after `stop` throws.
 */
async function pausableLocalService(scheme: 'mqtt' | 'http', port: number, spec: ProcessSpec): Promise<PausableService> {
  let child = await startLocal(spec);
  let stopped = false;
  // pause, resume and stop run one after another, so a stop during a resume cannot leave a child behind.
  let queue: Promise<void> = Promise.resolve();
  const serially = (fn: () => Promise<void>): Promise<void> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const service = localService(scheme, port, spec.dir, () => child);
  return {
    ...service,
    stop: () =>
      serially(async () => {
        stopped = true;
        pausedDirs.delete(spec.dir);
        await service.stop();
      }),
    pause: () =>
      serially(async () => {
        if (stopped) throw new Error(`${spec.name} on port ${port} is stopped; it cannot be paused`);
        await stopChild(child);
        pausedDirs.add(spec.dir);
      }),
    resume: () =>
      serially(async () => {
        if (stopped) throw new Error(`${spec.name} on port ${port} is stopped; it cannot be resumed`);
        if (running()) return;
        child = await spawnUntilReady(spec);
        pausedDirs.delete(spec.dir);
      }),
  };
}

/** First start: on failure the temp dir goes too (its log tails are in the error). */
async function startLocal(spec: ProcessSpec): Promise<ChildProcess> {
  try {
    return await spawnUntilReady(spec);
  } catch (err) {
    await rm(spec.dir, { recursive: true, force: true });
    throw err;
  }
}

async function spawnUntilReady(spec: ProcessSpec): Promise<ChildProcess> {
  installExitHook();
  const processLog = join(spec.dir, 'process.log');
  const readyLine = spec.readyLine;
  const logOffset = readyLine && existsSync(readyLine.file) ? statSync(readyLine.file).size : 0;
  const logged = (): boolean => !readyLine || readFileSync(readyLine.file).subarray(logOffset).toString('utf8').includes(readyLine.text);
  const fd = openSync(processLog, 'a');
  // setpriv (util-linux, always on Debian) makes the kernel SIGKILL the service if this process dies
  // without running any hook, e.g. a vitest worker SIGKILLed after its 500 ms SIGTERM grace.
  const [command, args] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', spec.bin, ...spec.args]] : [spec.bin, spec.args];
  const child = spawn(command, args, { cwd: spec.dir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  liveChildren.set(child, spec.dir);
  child.once('exit', () => liveChildren.delete(child));

  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${spec.name} exited early (code ${code}, signal ${signal})`)));
    child.once('error', reject); // e.g. EACCES
  });
  exited.catch(() => undefined); // handled via the race below; avoid an unhandled rejection after success
  try {
    await Promise.race([
      waitFor(async () => logged() && (await spec.ready()), { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, what: `${spec.name} to become ready` }),
      exited,
    ]);
    return child;
  } catch (err) {
    await stopChild(child);
    const tails = [processLog, ...spec.logFiles].map((file) => `--- ${file}\n${tail(file)}`).join('\n');
    const message = `failed to start ${spec.name} (${spec.bin} ${spec.args.join(' ')}): ${errorMessage(err)}\n${tails}`;
    throw new Error(message, { cause: err });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const [child, dir] of liveChildren) {
      child.kill('SIGKILL');
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort: the child may still be writing as it dies
      }
    }
    liveChildren.clear();
    for (const dir of pausedDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort, as above
      }
    }
    pausedDirs.clear();
  };
  process.on('exit', killAll);
  // Vitest ends fork workers with SIGTERM, which skips 'exit' handlers.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Re-raise so the default action ends the process, unless someone else handles the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function findBinary(name: string, debPackage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new Error(
    `${name} not found on PATH or in ${EXTRA_BIN_DIRS.join(', ')}: install the Debian package "${debPackage}" ` +
      `(apt-get install --no-install-recommends ${debPackage}) or make a Docker engine reachable`,
  );
}

/** Binds `count` ephemeral loopback ports at once (so they differ), then releases them. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, resolve);
      });
    }
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('unexpected server address');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function tail(file: string, maxChars = 2_000): string {
  if (!existsSync(file)) return '(no file)';
  const text = readFileSync(file, 'utf8');
  return text.length > maxChars ? `…${text.slice(-maxChars)}` : text || '(empty)';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- Docker ----

let dockerCheck: Promise<boolean> | undefined;

/** True when a Docker engine answers within a few seconds; `RG_TEST_NO_DOCKER=1` forces local binaries. */
function dockerAvailable(): Promise<boolean> {
  dockerCheck ??= (async () => {
    if (process.env.RG_TEST_NO_DOCKER === '1') return false;
    if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const timeout = sleep(5_000, undefined, { ref: false }).then(() => {
        throw new Error('timeout');
      });
      await Promise.race([getContainerRuntimeClient(), timeout]);
      return true;
    } catch {
      return false;
    }
  })();
  return dockerCheck;
}

/** `pause`/`resume` of a container: not supported (a stopped testcontainers container cannot be started again). */
function notPausable(name: string): Pick<PausableService, 'pause' | 'resume'> {
  const fail = (): Promise<never> =>
    Promise.reject(new Error(`${name}: pause()/resume() are not supported with Docker (testcontainers); run with RG_TEST_NO_DOCKER=1 and the Debian binaries`));
  return { pause: fail, resume: fail };
}

function fromContainer(container: StartedTestContainer, containerPort: number, scheme: 'mqtt' | 'http'): RunningService {
  const host = container.getHost();
  const port = container.getMappedPort(containerPort);
  let stopped = false;
  return {
    host,
    port,
    url: `${scheme}://${host}:${port}`,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await container.stop({ timeout: STOP_GRACE_MS });
    },
  };
}
