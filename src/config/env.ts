import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { message: 'must be an integer' })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `must be ≥ ${min}` }).max(max, { message: `must be ≤ ${max}` }));
const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const numberList = (min: number, max: number, count?: number) =>
  z
    .string()
    .trim()
    .transform((v, ctx) => {
      const parts = v === '' ? [] : v.split(',').map((x) => Number(x.trim()));
      if (parts.some((n) => !Number.isFinite(n) || n < min || n > max) || (count !== undefined && parts.length !== count)) {
        ctx.addIssue({ code: 'custom', message: `must be ${count ?? 'a list of'} comma-separated number${count === 1 ? '' : 's'} between ${min} and ${max}` });
        return z.NEVER;
      }
      return parts;
    });
const optionalString = z.string().trim().optional().transform((v) => (v === '' ? undefined : v));
const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, { message: `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}` });

/**
 * Every setting, read from the environment (and an optional `.env`). Documented in README.md and `.env.example`;
 * test/unit/config/env.test.ts checks all three agree.
 */
export const ENV_SCHEMA = z.object({
  HTTP_HOST: z.string().trim().min(1).default('0.0.0.0'),
  HTTP_PORT: int(0, 65535).default(8080),
  HTTP_RATE_LIMIT_PER_MIN: int(1, 1_000_000).default(600),
  INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: int(1, 1_000_000).default(50),
  MQTT_URL: optionalString.pipe(url(['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:']).optional()),
  MQTT_BROKER_HOST: z.string().trim().min(1).default('0.0.0.0'),
  MQTT_BROKER_PORT: int(0, 65535).default(1883),
  MQTT_CLIENT_ID: z.string().trim().min(1).max(64).default('riskgate-ingest'),
  MQTT_GROUP_COMMIT_MS: int(0, 100).default(2),
  MQTT_USERNAME: optionalString,
  MQTT_PASSWORD: optionalString,
  MQTT_BROKER_ALLOW_ANONYMOUS: bool.default(false),
  BROKER_AUTH_SECRET: optionalString,
  DATA_DIR: z.string().trim().min(1).default('data'),
  INFLUX_URL: optionalString.pipe(url(['http:', 'https:']).optional()),
  INFLUX_API: z.enum(['v1', 'v2'], { message: 'must be v1 or v2' }).default('v1'),
  INFLUX_DATABASE: z.string().trim().min(1).default('riskgate'),
  INFLUX_USERNAME: optionalString,
  INFLUX_PASSWORD: optionalString,
  INFLUX_ORG: optionalString,
  INFLUX_BUCKET: optionalString,
  INFLUX_TOKEN: optionalString,
  STORE_BATCH_SIZE: int(1, 100_000).default(5000),
  STORE_FLUSH_INTERVAL_MS: int(10, 60_000).default(1000),
  STORE_MAX_PENDING_POINTS: int(1000, 10_000_000).default(200_000),
  SPOOL_MAX_MB: int(16, 10_000_000).default(1024),
  SPOOL_SEGMENT_MB: int(1, 1024).default(16),
  SPOOL_FSYNC: z.enum(['always', 'interval', 'never'], { message: 'must be always, interval or never' }).default('interval'),
  SPOOL_FSYNC_INTERVAL_MS: int(10, 60_000).default(1000),
  RULES_DIR: z.string().trim().min(1).default('alert-rules'),
  RULES_HOT_RELOAD: bool.default(true),
  RULE_HISTORY_CUTOFF_MS: int(0, 366 * 86_400_000).default(600_000),
  INGEST_STALL_MS: int(1000, 86_400_000).default(120_000),
  ALERT_ESCALATE_AFTER_MIN: numberList(0.05, 100_000, 4).default([3, 10, 30, 120]),
  ALERT_AUTO_CLOSE_LEVELS: numberList(3, 4).default([4]),
  ALERT_FLAP_FLIPS: int(2, 1_000_000).default(6),
  ALERT_FLAP_WINDOW_MS: int(1000, 86_400_000).default(600_000),
  NOTIFIERS_FILE: optionalString,
  REGISTRY_SEED: optionalString,
  SIM_FLEET: optionalString,
  INGEST_MAX_PAYLOAD_BYTES: int(256, 16 * 1024 * 1024).default(65_536),
  INGEST_MAX_FUTURE_MS: int(0, 86_400_000).default(300_000),
  INGEST_MAX_AGE_MS: int(60_000, 366 * 86_400_000).default(7 * 86_400_000),
  DEAD_LETTER_CAPACITY: int(1, 1_000_000).default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  LOG_PRETTY: bool.default(false),
  JT808_ENABLED: bool.default(true),
  JT808_HOST: z.string().trim().min(1).default('0.0.0.0'),
  JT808_PORT: int(0, 65535).default(7611),
  JT808_HEARTBEAT_TIMEOUT_MS: int(1000, 86_400_000).default(180_000),
  JT808_MAX_CONNECTIONS: int(1, 1_000_000).default(10_000),
});

export type Env = z.output<typeof ENV_SCHEMA>;

/** Where readings go. */
export type StoreConfig =
  | { backend: 'sqlite'; path: string }
  | { backend: 'influx-v1'; url: string; database: string; username?: string; password?: string }
  | { backend: 'influx-v2'; url: string; org: string; bucket: string; token: string };

/** The validated, typed configuration every component receives. */
export interface Config {
  http: { host: string; port: number; rateLimitPerMin: number };
  mqtt: {
    /** External broker URL; undefined = the embedded aedes broker. */
    url?: string;
    embedded: { host: string; port: number; allowAnonymous: boolean } | null;
    brokerAuthSecret?: string;
    clientId: string;
    /** Group commit window of the ingest, ms (0 = each socket read); see MqttIngestOptions.groupCommitMs. */
    groupCommitMs: number;
    /** mqtt.js's per-packet trace on (`DEBUG` names `mqttjs`, the `debug` package's own switch); off, it costs nothing. */
    trace: boolean;
    username?: string;
    password?: string;
  };
  dataDir: string;
  store: StoreConfig;
  batch: { maxBatchPoints: number; flushIntervalMs: number; maxPendingPoints: number };
  /** The write-ahead spool under `{dataDir}/spool`. */
  spool: { dir: string; maxBytes: number; segmentBytes: number; fsync: 'always' | 'interval' | 'never'; fsyncIntervalMs: number };
  rulesDir: string;
  rules: { hotReload: boolean; historyCutoffMs: number; ingestStallMs: number };
  alerts: { escalateAfterMs: [number, number, number, number]; autoCloseLevels: (3 | 4)[]; flapFlips: number; flapWindowMs: number };
  notifiersFile?: string;
  registrySeed?: string;
  simFleet?: string;
  ingest: { maxPayloadBytes: number; maxFutureMs: number; maxAgeMs: number; deadLetterCapacity: number; maxMessagesPerDevicePerS: number };
  log: { level: string; pretty: boolean };
  /** The JT/T 808 TCP server for vehicle terminals (docs/jt808.md); null when JT808_ENABLED=false. */
  jt808: { host: string; port: number; heartbeatTimeoutMs: number; maxConnections: number } | null;
}

/** One invalid setting: its name and why. */
export interface ConfigProblem {
  name: string;
  reason: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Validates every setting at once and reports each problem by name. */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(ENV_SCHEMA.shape)) {
    const v = env[key];
    if (v !== undefined) raw[key] = v;
  }
  const parsed = ENV_SCHEMA.safeParse(raw);
  const problems: ConfigProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '(env)');
        return { name, reason: `${i.message}${raw[name] !== undefined ? ` (got "${raw[name]}")` : ''}` };
      });
  const bad = new Set(problems.map((p) => p.name));
  // The checks below still run with each invalid setting at its default, so one run reports every problem.
  const e = parsed.success ? parsed.data : ENV_SCHEMA.parse(Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k))));
  let store: StoreConfig;
  if (!e.INFLUX_URL) {
    store = { backend: 'sqlite', path: resolve(e.DATA_DIR, 'readings.db') };
  } else if (e.INFLUX_API === 'v1') {
    store = { backend: 'influx-v1', url: e.INFLUX_URL, database: e.INFLUX_DATABASE, username: e.INFLUX_USERNAME, password: e.INFLUX_PASSWORD };
  } else {
    for (const name of ['INFLUX_ORG', 'INFLUX_BUCKET', 'INFLUX_TOKEN'] as const) {
      if (!e[name]) problems.push({ name, reason: 'required when INFLUX_API=v2' });
    }
    store = { backend: 'influx-v2', url: e.INFLUX_URL, org: e.INFLUX_ORG ?? '', bucket: e.INFLUX_BUCKET ?? '', token: e.INFLUX_TOKEN ?? '' };
  }
  if (e.MQTT_PASSWORD && !e.MQTT_USERNAME) problems.push({ name: 'MQTT_PASSWORD', reason: 'set MQTT_USERNAME too' });
  if (!e.MQTT_URL && e.HTTP_PORT !== 0 && e.HTTP_PORT === e.MQTT_BROKER_PORT && !bad.has('HTTP_PORT') && !bad.has('MQTT_BROKER_PORT')) {
    problems.push({ name: 'MQTT_BROKER_PORT', reason: `must differ from HTTP_PORT (${e.HTTP_PORT})` });
  }
  if (e.JT808_ENABLED && e.JT808_PORT !== 0 && !bad.has('JT808_PORT')) {
    for (const other of ['HTTP_PORT', 'MQTT_BROKER_PORT'] as const) {
      if (other === 'MQTT_BROKER_PORT' && e.MQTT_URL) continue;
      if (!bad.has(other) && e[other] === e.JT808_PORT) problems.push({ name: 'JT808_PORT', reason: `must differ from ${other} (${e[other]})` });
    }
  }
  for (const name of ['REGISTRY_SEED', 'SIM_FLEET', 'NOTIFIERS_FILE'] as const) {
    const p = e[name];
    if (p && !existsSync(p)) problems.push({ name, reason: `file not found: ${p}` });
  }
  if (!existsSync(e.RULES_DIR)) problems.push({ name: 'RULES_DIR', reason: `directory not found: ${e.RULES_DIR}` });
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    config: {
      http: { host: e.HTTP_HOST, port: e.HTTP_PORT, rateLimitPerMin: e.HTTP_RATE_LIMIT_PER_MIN },
      mqtt: {
        url: e.MQTT_URL,
        embedded: e.MQTT_URL ? null : { host: e.MQTT_BROKER_HOST, port: e.MQTT_BROKER_PORT, allowAnonymous: e.MQTT_BROKER_ALLOW_ANONYMOUS },
        brokerAuthSecret: e.BROKER_AUTH_SECRET,
        clientId: e.MQTT_CLIENT_ID,
        groupCommitMs: e.MQTT_GROUP_COMMIT_MS,
        trace: /mqttjs/.test(env.DEBUG ?? ''),
        username: e.MQTT_USERNAME,
        password: e.MQTT_PASSWORD,
      },
      dataDir: resolve(e.DATA_DIR),
      store,
      batch: { maxBatchPoints: e.STORE_BATCH_SIZE, flushIntervalMs: e.STORE_FLUSH_INTERVAL_MS, maxPendingPoints: e.STORE_MAX_PENDING_POINTS },
      spool: {
        dir: resolve(e.DATA_DIR, 'spool'),
        maxBytes: e.SPOOL_MAX_MB * 1024 * 1024,
        segmentBytes: e.SPOOL_SEGMENT_MB * 1024 * 1024,
        fsync: e.SPOOL_FSYNC,
        fsyncIntervalMs: e.SPOOL_FSYNC_INTERVAL_MS,
      },
      rulesDir: resolve(e.RULES_DIR),
      rules: { hotReload: e.RULES_HOT_RELOAD, historyCutoffMs: e.RULE_HISTORY_CUTOFF_MS, ingestStallMs: e.INGEST_STALL_MS },
      alerts: {
        escalateAfterMs: e.ALERT_ESCALATE_AFTER_MIN.map((m) => Math.round(m * 60_000)) as [number, number, number, number],
        autoCloseLevels: e.ALERT_AUTO_CLOSE_LEVELS as (3 | 4)[],
        flapFlips: e.ALERT_FLAP_FLIPS,
        flapWindowMs: e.ALERT_FLAP_WINDOW_MS,
      },
      notifiersFile: e.NOTIFIERS_FILE ? resolve(e.NOTIFIERS_FILE) : undefined,
      registrySeed: e.REGISTRY_SEED ? resolve(e.REGISTRY_SEED) : undefined,
      simFleet: e.SIM_FLEET ? resolve(e.SIM_FLEET) : undefined,
      ingest: {
        maxPayloadBytes: e.INGEST_MAX_PAYLOAD_BYTES,
        maxFutureMs: e.INGEST_MAX_FUTURE_MS,
        maxAgeMs: e.INGEST_MAX_AGE_MS,
        deadLetterCapacity: e.DEAD_LETTER_CAPACITY,
        maxMessagesPerDevicePerS: e.INGEST_MAX_MESSAGES_PER_DEVICE_PER_S,
      },
      log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY },
      jt808: e.JT808_ENABLED
        ? { host: e.JT808_HOST, port: e.JT808_PORT, heartbeatTimeoutMs: e.JT808_HEARTBEAT_TIMEOUT_MS, maxConnections: e.JT808_MAX_CONNECTIONS }
        : null,
    },
  };
}

/** Reads `.env` from the working directory when present (Node's own parser), then the process environment wins. */
export function loadConfigFromProcess(envFile = '.env'): ConfigResult {
  const fromFile: Record<string, string> = {};
  if (existsSync(envFile)) {
    const before = { ...process.env };
    process.loadEnvFile(envFile);
    for (const [k, v] of Object.entries(process.env)) if (before[k] === undefined && v !== undefined) fromFile[k] = v;
  }
  return parseConfig({ ...fromFile, ...process.env });
}

/** The few variables the CLI reads besides the gateway's settings (RG_TOKEN for `riskgate stream`, DATA_DIR). */
export function cliEnv(): { RG_TOKEN?: string; DATA_DIR?: string } {
  return { RG_TOKEN: process.env.RG_TOKEN, DATA_DIR: process.env.DATA_DIR };
}
