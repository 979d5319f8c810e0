import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Gateway } from '../../src/app.js';
import { parseConfig } from '../../src/config/env.js';
import type { Clock } from '../../src/lib/clock.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURE_DEVICES = join(REPO_ROOT, 'test/fixtures/devices.yaml');

export interface TestGateway {
  gateway: Gateway;
  httpUrl: string;
  wsUrl: string;
  mqttUrl: string;
  dataDir: string;
  /** An admin API token (created for the test). */
  token: string;
  /** `authorization` header with the admin token, for fetch. */
  auth: Record<string, string>;
  /** fetch() against the gateway's HTTP API with the admin token (or `opts.token`), JSON in and out. */
  api(method: string, path: string, body?: unknown, opts?: { token?: string }): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Stops the gateway and removes its data directory (unless keepData). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** A gateway in this process on loopback only: every listener on a free port, the default rule packs, `dataDir`. */
export function loopbackGatewayEnv(dataDir: string): Record<string, string> {
  return {
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    MQTT_BROKER_HOST: '127.0.0.1',
    MQTT_BROKER_PORT: '0',
    // The JT/T 808 server is on by default (port 7611): a free port, so parallel gateways do not collide.
    JT808_HOST: '127.0.0.1',
    JT808_PORT: '0',
    DATA_DIR: dataDir,
    RULES_DIR: join(REPO_ROOT, 'alert-rules'),
  };
}

/**
 * Mounts the real gateway in the test process: free ports, a temporary data directory, the default rule packs and
 * the fixture devices, unless `env` says otherwise. Without MQTT_URL it runs the embedded aedes broker.
 */
export async function startTestGateway(env: Record<string, string> = {}, opts: { clock?: Clock; dataDir?: string } = {}): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'rg-gw-'));
  const cfg = parseConfig({
    ...loopbackGatewayEnv(dataDir),
    REGISTRY_SEED: FIXTURE_DEVICES,
    STORE_FLUSH_INTERVAL_MS: '50',
    LOG_LEVEL: 'silent',
    // Ingest tests publish without credentials (some on deliberately bad topics); broker auth has its own tests.
    MQTT_BROKER_ALLOW_ANONYMOUS: 'true',
    MQTT_CLIENT_ID: `rg-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...env,
  });
  if (!cfg.ok) throw new Error(`test config invalid: ${JSON.stringify(cfg.problems)}`);
  const logger = pino({ level: cfg.config.log.level });
  const gateway = new Gateway({ config: cfg.config, logger, clock: opts.clock, defaultMetrics: false });
  await gateway.start();
  const httpUrl = `http://127.0.0.1:${gateway.httpPort}`;
  const token = gateway.tokens.create({ name: 'test-admin', role: 'admin', createdBy: 'test' }).token;
  return {
    gateway,
    httpUrl,
    token,
    auth: { authorization: `Bearer ${token}` },
    async api(method, path, body, o = {}) {
      const res = await fetch(`${httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${o.token ?? token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    },
    wsUrl: `ws://127.0.0.1:${gateway.httpPort}/api/v1/stream`,
    mqttUrl: gateway.mqttUrl,
    dataDir,
    async stop(o = {}) {
      await gateway.stop();
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A QoS 1 publisher (what a device does). */
export async function connectPublisher(url: string, clientId = `rg-pub-${Math.random().toString(36).slice(2, 8)}`): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 });
}

/** Reads a counter or gauge value from the gateway's /metrics text. */
export async function metricValue(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_][a-z0-9_]*)(\{([^}]*)\})? ([-0-9.e+]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[3] ?? '';
    if (want.every((w) => have.includes(w))) total += Number(m[4]);
  }
  return total;
}
