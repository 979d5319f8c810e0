import { Jt808Terminal, type LatLon } from '../sim/jt808-terminal.js';

/**
 * JT/T 808 load generator: N simulated terminals (src/sim/jt808-terminal.ts) connect, register, authenticate, then
 * each reports a location every `intervalMs` (staggered evenly over the interval) for `durationMs`, and the counts
 * come back. The gateway must know the terminals: write `jt808LoadSeedYaml()` as its REGISTRY_SEED (device ids are
 * the 12-digit phones, so `findTerminal` finds them by phone). bench/jt808-load.ts runs it against a gateway process
 * and checks every location was stored; `riskgate jt808-load` runs it from the command line.
 */

export interface Jt808LoadOptions {
  host: string;
  port: number;
  /** Concurrent terminals. */
  terminals: number;
  /** Location interval per terminal, ms. Default 10 000. */
  intervalMs?: number;
  /** Length of the reporting phase (after every terminal logged in), ms. Default 60 000. */
  durationMs?: number;
  /** Index of the first terminal (to split one fleet over several processes). Default 0. */
  firstIndex?: number;
  /** Phone of terminal i is `phoneBase + i` (11 digits: a mobile number). Default 14_000_000_000. */
  phoneBase?: number;
  /** Header edition. Default 2013. */
  version?: 2013 | 2019;
  /** Connections + logins in flight at once. Default 200. */
  connectConcurrency?: number;
  /** A terminal that sent nothing for this long sends 0x0002 (during the login phase), ms. Default 60 000. */
  heartbeatMs?: number;
  /** How long a request waits for its answer, ms. Default 30 000. */
  replyTimeoutMs?: number;
  /** After the reporting phase, how long to wait for answers still due, ms. Default 15 000. */
  drainMs?: number;
  /** Progress lines (every `progressEveryMs`); default none. */
  log?: (line: string) => void;
  /** Default 10 000. */
  progressEveryMs?: number;
  /** Aborting ends the reporting phase early (the result still comes back). */
  signal?: AbortSignal;
}

/** What a run did. "Acked" = answered 0x8001 result 0: the gateway took the location. */
export interface Jt808LoadResult {
  terminals: number;
  /** TCP connections opened. */
  connected: number;
  /** Terminals that completed 0x0100/0x0102. */
  authenticated: number;
  /** Connections or logins that failed (refused, timed out, closed). */
  connectErrors: number;
  loginErrors: number;
  /** 0x0200 sent. */
  locationsSent: number;
  /** 0x0200 answered with result 0. */
  locationsAcked: number;
  /** 0x0200 answered with another result (1 failure / backpressure, 2, 3). */
  locationsRefused: number;
  /** Answers of any kind received (0x8100, 0x8001). */
  repliesReceived: number;
  /** Requests not answered within `replyTimeoutMs`, or cut by a closed connection. */
  timeouts: number;
  /** Terminals whose connection closed before the end. */
  disconnected: number;
  /** connectErrors + loginErrors + locationsRefused + timeouts + disconnected. */
  errors: number;
  /** Connect + login phase, ms. */
  loginMs: number;
  /** Reporting phase (until the last answer or the drain timeout), ms. */
  reportingMs: number;
  /** locationsAcked per second of the reporting phase. */
  ackedPerS: number;
}

const DEFAULTS = { intervalMs: 10_000, durationMs: 60_000, firstIndex: 0, phoneBase: 14_000_000_000, version: 2013 as const, connectConcurrency: 200, heartbeatMs: 60_000, replyTimeoutMs: 30_000, drainMs: 15_000, progressEveryMs: 10_000 };

/** Phone of load terminal `index` (11 digits). */
export function jt808LoadPhone(index: number, phoneBase = DEFAULTS.phoneBase): string {
  return String(phoneBase + index);
}

/** Registry device id of load terminal `index`: the phone as a 2013 header carries it (12 digits). */
export function jt808LoadDeviceId(index: number, phoneBase = DEFAULTS.phoneBase): string {
  return jt808LoadPhone(index, phoneBase).padStart(12, '0');
}

/** A REGISTRY_SEED (fleet file) with the vehicles of load terminals `firstIndex … firstIndex + terminals − 1`. */
export function jt808LoadSeedYaml(opts: { terminals: number; firstIndex?: number; phoneBase?: number; tenant?: string; heartbeatS?: number }): string {
  const tenant = opts.tenant ?? 'jt808-load';
  const first = opts.firstIndex ?? 0;
  const lines = [
    `# ${opts.terminals} vehicles for the JT/T 808 load generator (src/loadtest/jt808-load.ts); device id = terminal phone.`,
    `defaults: { tenant: ${tenant}, kind: vehicle, region: "510100", heartbeat_s: ${opts.heartbeatS ?? 60} }`,
    'devices:',
  ];
  for (let i = first; i < first + opts.terminals; i++) {
    lines.push(`  - { device_id: "${jt808LoadDeviceId(i, opts.phoneBase)}", attrs: { vehicle_class: truck, terminal_id: "L${i.toString(36).toUpperCase().padStart(6, '0')}" } }`);
  }
  return `${lines.join('\n')}\n`;
}

/** A small loop per terminal around 成都, offset so the fleet spreads over the city. */
function routeOf(index: number): LatLon[] {
  const lat = 30.55 + (index % 100) * 0.003;
  const lon = 103.95 + (Math.floor(index / 100) % 100) * 0.003;
  return [
    [lat, lon],
    [lat + 0.02, lon + 0.01],
    [lat + 0.01, lon + 0.03],
  ];
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Opens `terminals` JT/T 808 terminals against `host:port`, reports for `durationMs`, closes them; never throws for a terminal's failure. */
export async function runJt808Load(options: Jt808LoadOptions): Promise<Jt808LoadResult> {
  const o = { ...DEFAULTS, ...options };
  const log = o.log ?? (() => undefined);
  const r: Jt808LoadResult = {
    terminals: o.terminals,
    connected: 0,
    authenticated: 0,
    connectErrors: 0,
    loginErrors: 0,
    locationsSent: 0,
    locationsAcked: 0,
    locationsRefused: 0,
    repliesReceived: 0,
    timeouts: 0,
    disconnected: 0,
    errors: 0,
    loginMs: 0,
    reportingMs: 0,
    ackedPerS: 0,
  };
  let finished = false;
  const lastSent = new Map<Jt808Terminal, number>();
  const terminals: Jt808Terminal[] = [];
  for (let k = 0; k < o.terminals; k++) {
    const i = o.firstIndex + k;
    const t: Jt808Terminal = new Jt808Terminal({
      host: o.host,
      port: o.port,
      phone: jt808LoadPhone(i, o.phoneBase),
      version: o.version,
      terminalId: `L${i.toString(36).toUpperCase().padStart(6, '0')}`,
      route: routeOf(i),
      speedKmh: 40 + (i % 40),
      replyTimeoutMs: o.replyTimeoutMs,
      keepInbox: false,
      onClose: () => {
        if (!finished && lastSent.has(t)) r.disconnected++;
      },
    });
    terminals.push(t);
  }

  // Phase 1: connect and log in, a bounded number at a time; idle terminals keep their session with heartbeats.
  const t0 = Date.now();
  const keepalive = setInterval(() => {
    const now = Date.now();
    for (const [t, at] of lastSent) {
      if (now - at < o.heartbeatMs || !t.connected) continue;
      lastSent.set(t, now);
      t.heartbeat().catch(() => undefined);
    }
  }, Math.min(5_000, o.heartbeatMs));
  keepalive.unref();
  const progress = setInterval(() => log(`jt808-load: connected ${r.connected}, authenticated ${r.authenticated}, sent ${r.locationsSent}, acked ${r.locationsAcked}, errors ${r.connectErrors + r.loginErrors + r.locationsRefused + r.timeouts + r.disconnected}`), o.progressEveryMs);
  progress.unref();
  const online: Jt808Terminal[] = [];
  await pool(terminals, o.connectConcurrency, async (t) => {
    if (o.signal?.aborted) return;
    try {
      await t.connect();
      r.connected++;
    } catch {
      r.connectErrors++;
      return;
    }
    try {
      await t.login();
      r.authenticated++;
      lastSent.set(t, Date.now());
      online.push(t);
    } catch {
      r.loginErrors++;
      t.close();
    }
  });
  r.loginMs = Date.now() - t0;
  log(`jt808-load: ${r.authenticated}/${o.terminals} terminals authenticated in ${(r.loginMs / 1000).toFixed(1)} s; reporting every ${o.intervalMs / 1000} s for ${o.durationMs / 1000} s`);

  // Phase 2: every terminal reports each intervalMs, offsets spread evenly over the interval.
  const start = Date.now();
  const end = start + o.durationMs;
  const inFlight = new Set<Promise<void>>();
  const report = (t: Jt808Terminal): void => {
    if (!t.connected) return;
    lastSent.set(t, Date.now());
    r.locationsSent++;
    const p = t.reportLocation().then(
      (a) => {
        if (finished) return;
        if (a.result === 0) r.locationsAcked++;
        else r.locationsRefused++;
      },
      () => {
        if (!finished) r.timeouts++;
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const timers: NodeJS.Timeout[] = [];
  online.forEach((t, k) => {
    const offset = Math.floor((k / Math.max(1, online.length)) * o.intervalMs);
    if (start + offset >= end) return;
    timers.push(
      setTimeout(() => {
        report(t);
        const every = setInterval(() => {
          if (Date.now() >= end) clearInterval(every);
          else report(t);
        }, o.intervalMs);
        timers.push(every);
      }, offset),
    );
  });
  await sleep(Math.max(0, end - Date.now()), o.signal);
  for (const tm of timers) clearTimeout(tm);
  // Answers still due: wait for them (bounded).
  const drainUntil = Date.now() + o.drainMs;
  while (inFlight.size > 0 && Date.now() < drainUntil) await sleep(100);
  r.reportingMs = Date.now() - start;
  finished = true;
  r.timeouts += inFlight.size; // still unanswered after the drain
  clearInterval(keepalive);
  clearInterval(progress);
  for (const t of terminals) {
    r.repliesReceived += t.stats.answers;
    t.close();
  }
  r.errors = r.connectErrors + r.loginErrors + r.locationsRefused + r.timeouts + r.disconnected;
  r.ackedPerS = r.reportingMs > 0 ? Math.round((r.locationsAcked / r.reportingMs) * 10_000) / 10 : 0;
  return r;
}

/** The result as aligned `key value` lines. */
export function formatJt808LoadResult(r: Jt808LoadResult): string {
  const rows: [string, string | number][] = [
    ['terminals', r.terminals],
    ['connected', r.connected],
    ['authenticated', r.authenticated],
    ['locations sent', r.locationsSent],
    ['locations acked', r.locationsAcked],
    ['locations refused', r.locationsRefused],
    ['replies received', r.repliesReceived],
    ['timeouts', r.timeouts],
    ['disconnected', r.disconnected],
    ['connect errors', r.connectErrors],
    ['login errors', r.loginErrors],
    ['errors', r.errors],
    ['login phase', `${(r.loginMs / 1000).toFixed(1)} s`],
    ['reporting phase', `${(r.reportingMs / 1000).toFixed(1)} s`],
    ['acked locations/s', r.ackedPerS],
  ];
  return `${rows.map(([k, v]) => `${k.padEnd(18)} ${v}`).join('\n')}\n`;
}
