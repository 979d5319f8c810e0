import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ENV_SCHEMA, parseConfig, type Config, type ConfigProblem } from '../../../src/config/env.js';

const ROOT = resolve(import.meta.dirname, '../../..');
// An absolute rules directory so the tests do not depend on the working directory.
const BASE = { RULES_DIR: join(ROOT, 'alert-rules') };
const SCHEMA_KEYS = Object.keys(ENV_SCHEMA.shape).sort();

function ok(env: Record<string, string>): Config {
  const res = parseConfig({ ...BASE, ...env });
  if (!res.ok) throw new Error(`expected a valid config, got ${JSON.stringify(res.problems)}`);
  return res.config;
}

function problems(env: Record<string, string>): ConfigProblem[] {
  const res = parseConfig({ ...BASE, ...env });
  if (res.ok) throw new Error(`expected problems for ${JSON.stringify(env)}`);
  return res.problems;
}

/** `KEY=value` lines of .env.example, each with the comment line right above it. */
function envExample(): { key: string; value: string; comment: string | undefined }[] {
  const lines = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n');
  const out: { key: string; value: string; comment: string | undefined }[] = [];
  lines.forEach((line, i) => {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) return;
    const above = lines[i - 1];
    out.push({ key: m[1] as string, value: m[2] as string, comment: above?.startsWith('# ') ? above.slice(2) : undefined });
  });
  return out;
}

/** First-column keys of the table under `## Configuration` in README.md; throws a readable error when missing. */
function readmeConfigKeys(): string[] {
  const file = join(ROOT, 'README.md');
  if (!existsSync(file)) throw new Error('README.md is missing: it must have a "## Configuration" table of every setting');
  const text = readFileSync(file, 'utf8');
  const start = text.search(/^## Configuration\s*$/m);
  if (start < 0) throw new Error('README.md has no "## Configuration" heading');
  const rest = text.slice(start).split('\n').slice(1);
  const end = rest.findIndex((l) => /^#{1,2} /.test(l));
  const section = end < 0 ? rest : rest.slice(0, end);
  const keys = section.flatMap((l) => {
    const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/.exec(l);
    return m ? [m[1] as string] : [];
  });
  if (keys.length === 0) throw new Error('README.md "## Configuration" has no table rows of the form | `VARIABLE` | … |');
  return keys;
}

const BAD_SETTINGS: { name: string; env: Record<string, string>; problem: string; reason: RegExp }[] = [
  { name: 'a port that is not a number', env: { HTTP_PORT: 'abc' }, problem: 'HTTP_PORT', reason: /must be an integer.*"abc"/ },
  { name: 'a port above 65535', env: { HTTP_PORT: '70000' }, problem: 'HTTP_PORT', reason: /must be ≤ 65535.*"70000"/ },
  { name: 'an unknown InfluxDB API', env: { INFLUX_API: 'v3' }, problem: 'INFLUX_API', reason: /must be v1 or v2.*"v3"/ },
  { name: 'an MQTT URL that is not a URL', env: { MQTT_URL: 'not-a-url' }, problem: 'MQTT_URL', reason: /must be a URL with scheme mqtt:\/\/ .*"not-a-url"/ },
  { name: 'an InfluxDB URL with the wrong scheme', env: { INFLUX_URL: 'mqtt://influx:8086' }, problem: 'INFLUX_URL', reason: /must be a URL with scheme http:\/\/ or https:\/\// },
  { name: 'an unknown log level', env: { LOG_LEVEL: 'loud' }, problem: 'LOG_LEVEL', reason: /must be one of fatal, error, warn, info, debug, trace, silent.*"loud"/ },
  { name: 'a batch size of 0', env: { STORE_BATCH_SIZE: '0' }, problem: 'STORE_BATCH_SIZE', reason: /must be ≥ 1.*"0"/ },
  { name: 'a boolean that is not one', env: { LOG_PRETTY: 'maybe' }, problem: 'LOG_PRETTY', reason: /must be true or false/ },
  { name: 'a rules directory that does not exist', env: { RULES_DIR: '/nonexistent/riskgate-rules' }, problem: 'RULES_DIR', reason: /directory not found: \/nonexistent\/riskgate-rules/ },
  { name: 'a registry seed file that does not exist', env: { REGISTRY_SEED: '/nonexistent/devices.yaml' }, problem: 'REGISTRY_SEED', reason: /file not found/ },
  { name: 'a password without a username', env: { MQTT_PASSWORD: 'secret' }, problem: 'MQTT_PASSWORD', reason: /set MQTT_USERNAME too/ },
  { name: 'the embedded broker on the HTTP port', env: { HTTP_PORT: '1883' }, problem: 'MQTT_BROKER_PORT', reason: /must differ from HTTP_PORT \(1883\)/ },
];

const BACKENDS: { name: string; env: Record<string, string>; store: Config['store'] }[] = [
  { name: 'no INFLUX_URL stores readings in SQLite under DATA_DIR', env: { DATA_DIR: '/var/lib/riskgate' }, store: { backend: 'sqlite', path: '/var/lib/riskgate/readings.db' } },
  {
    name: 'INFLUX_URL alone selects InfluxDB 1.x',
    env: { INFLUX_URL: 'http://influx:8086', INFLUX_DATABASE: 'rg', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: 'p' },
    store: { backend: 'influx-v1', url: 'http://influx:8086', database: 'rg', username: 'u', password: 'p' },
  },
  {
    name: 'INFLUX_API=v2 selects InfluxDB 2.x with org, bucket and token',
    env: { INFLUX_URL: 'https://influx:8086', INFLUX_API: 'v2', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b', INFLUX_TOKEN: 't' },
    store: { backend: 'influx-v2', url: 'https://influx:8086', org: 'o', bucket: 'b', token: 't' },
  },
];

describe('config/env', () => {
  test('an empty environment gives the documented defaults', () => {
    const res = parseConfig({});
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.config).toEqual({
      http: { host: '0.0.0.0', port: 8080, rateLimitPerMin: 600 },
      mqtt: { url: undefined, embedded: { host: '0.0.0.0', port: 1883, allowAnonymous: false }, brokerAuthSecret: undefined, clientId: 'riskgate-ingest', groupCommitMs: 2, trace: false, username: undefined, password: undefined },
      dataDir: resolve('data'),
      store: { backend: 'sqlite', path: resolve('data', 'readings.db') },
      batch: { maxBatchPoints: 5000, flushIntervalMs: 1000, maxPendingPoints: 200_000 },
      spool: { dir: resolve('data/spool'), maxBytes: 1024 * 1024 * 1024, segmentBytes: 16 * 1024 * 1024, fsync: 'interval', fsyncIntervalMs: 1000 },
      rulesDir: resolve('alert-rules'),
      rules: { hotReload: true, historyCutoffMs: 600_000, ingestStallMs: 120_000 },
      alerts: { escalateAfterMs: [180_000, 600_000, 1_800_000, 7_200_000], autoCloseLevels: [4], flapFlips: 6, flapWindowMs: 600_000 },
      notifiersFile: undefined,
      registrySeed: undefined,
      simFleet: undefined,
      ingest: { maxPayloadBytes: 65_536, maxFutureMs: 300_000, maxAgeMs: 7 * 86_400_000, deadLetterCapacity: 1000, maxMessagesPerDevicePerS: 50 },
      log: { level: 'info', pretty: false },
      jt808: { host: '0.0.0.0', port: 7611, heartbeatTimeoutMs: 180_000, maxConnections: 10_000 },
    });
  });

  test('ALERT_ESCALATE_AFTER_MIN needs four minutes and ALERT_AUTO_CLOSE_LEVELS refuses levels 1 and 2', () => {
    expect(problems({ ALERT_ESCALATE_AFTER_MIN: '3,10' })[0]).toMatchObject({ name: 'ALERT_ESCALATE_AFTER_MIN', reason: expect.stringMatching(/4 comma-separated numbers/) });
    expect(problems({ ALERT_AUTO_CLOSE_LEVELS: '2,4' })[0]).toMatchObject({ name: 'ALERT_AUTO_CLOSE_LEVELS', reason: expect.stringMatching(/between 3 and 4/) });
    expect(ok({ ALERT_AUTO_CLOSE_LEVELS: '' }).alerts.autoCloseLevels).toEqual([]);
  });

  test('keys that are not settings are ignored', () => {
    expect(ok({ PATH: '/usr/bin', HOME: '/root', http_port: 'abc' }).http.port).toBe(8080);
  });

  test('numbers and booleans are parsed from their text', () => {
    const c = ok({ HTTP_PORT: ' 9090 ', STORE_BATCH_SIZE: '100', LOG_PRETTY: 'YES' });
    expect(c.http.port).toBe(9090);
    expect(c.batch.maxBatchPoints).toBe(100);
    expect(c.log.pretty).toBe(true);
  });

  test.each(BAD_SETTINGS)('reports $name by name with what is allowed', ({ env, problem, reason }) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]?.name).toBe(problem);
    expect(found[0]?.reason).toMatch(reason);
  });

  test('INFLUX_API=v2 without org, bucket and token reports each of the three', () => {
    const found = problems({ INFLUX_URL: 'http://influx:8086', INFLUX_API: 'v2' });
    expect(found).toEqual([
      { name: 'INFLUX_ORG', reason: 'required when INFLUX_API=v2' },
      { name: 'INFLUX_BUCKET', reason: 'required when INFLUX_API=v2' },
      { name: 'INFLUX_TOKEN', reason: 'required when INFLUX_API=v2' },
    ]);
  });

  test('several bad settings are reported together in one result', () => {
    const found = problems({
      HTTP_PORT: 'abc',
      LOG_LEVEL: 'loud',
      STORE_BATCH_SIZE: '0',
      MQTT_URL: 'not-a-url',
      INFLUX_URL: 'http://influx:8086',
      INFLUX_API: 'v2',
      RULES_DIR: '/nonexistent/riskgate-rules',
    });
    expect(found.map((p) => p.name).sort()).toEqual(
      ['HTTP_PORT', 'INFLUX_BUCKET', 'INFLUX_ORG', 'INFLUX_TOKEN', 'LOG_LEVEL', 'MQTT_URL', 'RULES_DIR', 'STORE_BATCH_SIZE'].sort(),
    );
    for (const p of found) expect(p.reason).not.toBe('');
  });

  test('an invalid port is not also reported as colliding with the other port', () => {
    const found = problems({ HTTP_PORT: 'abc', MQTT_BROKER_PORT: '8080' });
    expect(found.map((p) => p.name)).toEqual(['HTTP_PORT']);
  });

  test.each(BACKENDS)('$name', ({ env, store }) => {
    expect(ok(env).store).toEqual(store);
  });

  test('MQTT_URL selects an external broker and disables the embedded one', () => {
    const c = ok({ MQTT_URL: 'mqtts://broker.example:8883', MQTT_USERNAME: 'gw', MQTT_PASSWORD: 'pw' });
    expect(c.mqtt).toEqual({ url: 'mqtts://broker.example:8883', embedded: null, clientId: 'riskgate-ingest', groupCommitMs: 2, trace: false, username: 'gw', password: 'pw' });
  });

  test('an external broker may share the HTTP port number', () => {
    expect(ok({ MQTT_URL: 'mqtt://broker:8080', HTTP_PORT: '8080', MQTT_BROKER_PORT: '8080' }).mqtt.embedded).toBeNull();
  });

  test('an empty MQTT_URL keeps the embedded broker', () => {
    expect(ok({ MQTT_URL: '' }).mqtt.embedded).toEqual({ host: '0.0.0.0', port: 1883, allowAnonymous: false });
  });
});

describe('config/env documentation', () => {
  test('.env.example lists every setting exactly once, each under a comment line', () => {
    const entries = envExample();
    expect(entries.map((e) => e.key).sort()).toEqual(SCHEMA_KEYS);
    expect(new Set(entries.map((e) => e.key)).size).toBe(entries.length);
    for (const e of entries) expect(e.comment, `${e.key} needs a "# description" line above it`).toBeTruthy();
  });

  test('.env.example values are the defaults', () => {
    const env = Object.fromEntries(envExample().map((e) => [e.key, e.value]));
    expect(parseConfig(env)).toEqual(parseConfig({}));
  });

  test('README.md "## Configuration" table lists exactly the settings', () => {
    const keys = readmeConfigKeys();
    expect(keys.slice().sort()).toEqual(SCHEMA_KEYS);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
