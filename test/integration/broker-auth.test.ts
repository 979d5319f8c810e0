import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BROKER_AUTH_SECRET_HEADER, brokerAuthRoutes, EMQX_AUTHN_PATH, EMQX_AUTHZ_PATH } from '../../src/api/broker-auth-routes.js';
import { installErrorHandler } from '../../src/api/http-errors.js';
import { EmbeddedBroker, INTERNAL_USERNAME } from '../../src/broker/embedded-broker.js';
import { exportMosquitto, runExportMosquitto } from '../../src/cli/export-mosquitto.js';
import { buildDownlinkTopic } from '../../src/ingest/mqtt/topics.js';
import { openSqlite, type SqliteDb } from '../../src/lib/sqlite.js';
import { CredentialStore, mosquittoHash, type IssuedCredential } from '../../src/registry/credentials.js';
import { DeviceRegistry } from '../../src/registry/device-registry.js';
import { startMosquitto, waitFor, type RunningMosquitto } from '../helpers/services.js';

/** Cheap scrypt: the cost parameters are covered by the unit tests. */
const FAST = { scryptN: 1024, mosquittoIterations: 101 };
const logger = pino({ level: process.env.RG_TEST_LOG ?? 'silent' });

/** Registry and credentials in a fresh SQLite file: t1/d1 (gas), t1/d2 (gas), t2/d9 (smoke); t1/ghost has a credential but no registration. */
function setupStores(dir: string): { db: SqliteDb; registry: DeviceRegistry; credentials: CredentialStore; creds: Record<'d1' | 'd2' | 'd9' | 'ghost', IssuedCredential> } {
  const db = openSqlite(join(dir, 'riskgate.db'));
  const registry = new DeviceRegistry(db);
  registry.start();
  registry.upsert([
    { tenant: 't1', deviceId: 'd1', kind: 'gas', heartbeatS: 60, attrs: {} },
    { tenant: 't1', deviceId: 'd2', kind: 'gas', heartbeatS: 60, attrs: {} },
    { tenant: 't2', deviceId: 'd9', kind: 'smoke', heartbeatS: 60, attrs: {} },
  ]);
  const credentials = new CredentialStore({ db, options: FAST });
  credentials.start();
  const creds = {
    d1: credentials.issue('t1', 'd1'),
    d2: credentials.issue('t1', 'd2'),
    d9: credentials.issue('t2', 'd9'),
    ghost: credentials.issue('t1', 'ghost'),
  };
  return { db, registry, credentials, creds };
}

const clients: MqttClient[] = [];
async function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  clients.push(client);
  return client;
}
/** The CONNACK return code of a refused connection. */
async function refusedWith(url: string, opts: IClientOptions): Promise<number> {
  try {
    const c = await connect(url, opts);
    await c.endAsync();
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}
function collect(client: MqttClient): { topic: string; payload: string }[] {
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString('utf8') }));
  return got;
}
/** The SUBACK return codes, in filter order (mqtt.js turns any 0x80 into an error, with the packet beside it). */
function subackCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos: 1 }, (err, _granted, packet) => {
      if (packet) resolve((packet.granted as (number | { qos: number })[]).map((g) => (typeof g === 'number' ? g : g.qos)));
      else reject(err ?? new Error('no SUBACK'));
    });
  });
}
function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()));
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
});

describe('embedded broker with device credentials', () => {
  let dir: string;
  let stores: ReturnType<typeof setupStores>;
  let broker: EmbeddedBroker;
  let url: string;
  let ingest: MqttClient;
  let received: { topic: string; payload: string }[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-broker-auth-'));
    stores = setupStores(dir);
    broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger, credentials: stores.credentials, registry: stores.registry });
    await broker.start();
    url = `mqtt://127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await broker.stop();
    stores.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // The gateway's ingest, with the internal identity, subscribed like MqttIngest.
  const startIngest = async (): Promise<void> => {
    ingest = await connect(url, { clientId: 'rg-ingest-test', clean: true, ...broker.internalCredentials });
    received = collect(ingest);
    const granted = await ingest.subscribeAsync('rg/v1/#', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
  };

  test('a device with valid credentials publishes to its own topic and the internal identity receives it', async () => {
    await startIngest();
    const d1 = await connect(url, { clientId: 't1/d1', ...stores.creds.d1 });
    await d1.publishAsync('rg/v1/t1/gas/d1/telemetry', '{"data":{}}', { qos: 1 });
    await waitFor(() => received.length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the reading at the ingest' });
    expect(received[0]).toEqual({ topic: 'rg/v1/t1/gas/d1/telemetry', payload: '{"data":{}}' });
  });

  test('connections are refused without credentials, with a wrong password, a foreign client id or no registration', async () => {
    const { d1, d2, ghost } = stores.creds;
    expect(await refusedWith(url, { clientId: 't1/d1' })).toBe(5); // 0x05 Not authorized
    expect(await refusedWith(url, { clientId: 't1/d1', username: d1.username, password: d2.password })).toBe(4); // 0x04 Bad user name or password
    expect(await refusedWith(url, { clientId: 't1/d1', username: d1.username, password: `${d1.password}x` })).toBe(4);
    expect(await refusedWith(url, { clientId: 'rg-ingest-test', ...d1 })).toBe(2); // 0x02 Identifier rejected: not its own id
    expect(await refusedWith(url, { clientId: 't1/d2', ...d1 })).toBe(2);
    expect(await refusedWith(url, { clientId: 't1/ghost', ...ghost })).toBe(5);
    expect(await refusedWith(url, { clientId: 'x', username: INTERNAL_USERNAME, password: 'guess' })).toBe(4);
    // A client id of the form username/… is the device's own too.
    expect(await refusedWith(url, { clientId: 't1/d1/modem-2', ...d1 })).toBe(0);
  });

  test("a publish to another tenant's topic is not delivered and aedes closes the publisher's connection", async () => {
    await startIngest();
    const d1 = await connect(url, { clientId: 't1/d1', ...stores.creds.d1 });
    const gone = closed(d1);
    // MQTT 3.1.1 has no negative PUBACK [MQTT-3.3.5-2]: aedes closes the connection. The QoS 1 publish gets no
    // PUBACK and stays in mqtt.js's outgoing store (resent after a reconnect) until the client ends.
    let outcome = 'pending';
    d1.publishAsync('rg/v1/t2/smoke/d9/telemetry', '{}', { qos: 1 }).then(
      () => (outcome = 'acked'),
      (err: Error) => (outcome = `failed: ${err.message}`),
    );
    await gone;
    await sleep(100);
    expect(outcome).toBe('pending');
    await d1.endAsync(true);
    await waitFor(() => outcome !== 'pending', { timeoutMs: 2_000, intervalMs: 10, what: 'the publish to settle' });
    expect(outcome).toBe('failed: Connection closed');
    // Same for a topic of its own tenant but another kind or an unknown channel.
    for (const topic of ['rg/v1/t1/smoke/d1/telemetry', 'rg/v1/t1/gas/d1/command', 'rg/v1/t1/gas/d2/telemetry']) {
      const c = await connect(url, { clientId: 't1/d1', ...stores.creds.d1 });
      const cGone = closed(c);
      c.publish(topic, '{}', { qos: 0 });
      await cGone;
    }
    await sleep(200);
    expect(received).toEqual([]);
  });

  test('a device may subscribe to its own downlink only (SUBACK 0x80 otherwise) and receives only its own commands', async () => {
    await startIngest();
    const d1 = await connect(url, { clientId: 't1/d1', ...stores.creds.d1 });
    const d2 = await connect(url, { clientId: 't1/d2', ...stores.creds.d2 });
    const got1 = collect(d1);
    const got2 = collect(d2);
    const filters = ['rg/v1/#', '#', '$SYS/#', 'rg/down/v1/+/gas/d1/#', 'rg/down/v1/t1/gas/d2/#', 'rg/down/v1/t1/gas/d1/#'];
    expect(await subackCodes(d1, filters)).toEqual([128, 128, 128, 128, 128, 1]);
    expect(await subackCodes(d2, ['rg/down/v1/t1/gas/d2/+'])).toEqual([1]);
    expect(d1.connected).toBe(true); // a refused subscription keeps the connection

    await ingest.publishAsync(buildDownlinkTopic({ tenant: 't1', kind: 'gas', deviceId: 'd1', command: 'reset' }), 'go', { qos: 1 });
    await waitFor(() => got1.length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the command at d1' });
    await d2.publishAsync('rg/v1/t1/gas/d2/status', '{}', { qos: 1 });
    await waitFor(() => received.length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the status at the ingest' });
    expect(got1).toEqual([{ topic: 'rg/down/v1/t1/gas/d1/reset', payload: 'go' }]);
    expect(got2).toEqual([]);
  });

  test('rotation cuts the live session at once; the old password is refused and the new one works', async () => {
    await startIngest();
    const old = stores.creds.d1;
    const d1 = await connect(url, { clientId: 't1/d1', ...old });
    const gone = closed(d1);
    const fresh = stores.credentials.rotate('t1', 'd1');
    await gone;
    expect(d1.connected).toBe(false);
    expect(await refusedWith(url, { clientId: 't1/d1', ...old })).toBe(4);
    const again = await connect(url, { clientId: 't1/d1', ...fresh });
    await again.publishAsync('rg/v1/t1/gas/d1/event', '{}', { qos: 1 });
    await waitFor(() => received.length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the event at the ingest' });
    stores.creds.d1 = fresh;
  });

  test('revocation cuts the live session and refuses reconnects', async () => {
    const d2 = await connect(url, { clientId: 't1/d2', ...stores.creds.d2 });
    const other = await connect(url, { clientId: 't1/d1', ...stores.creds.d1 });
    const gone = closed(d2);
    expect(stores.credentials.revoke('t1', 'd2')).toBe(true);
    await gone;
    expect(await refusedWith(url, { clientId: 't1/d2', ...stores.creds.d2 })).toBe(4);
    expect(other.connected).toBe(true); // only that device's sessions
  });

  test('the internal identity may not publish uplink topics', async () => {
    await startIngest();
    const gone = closed(ingest);
    ingest.publish('rg/v1/t1/gas/d1/telemetry', '{}', { qos: 0 });
    await gone;
  });
});

describe('embedded broker with allowAnonymous (development only)', () => {
  test('anonymous clients connect and publish anywhere, while a client with a username is still checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-broker-anon-'));
    const stores = setupStores(dir);
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger, credentials: stores.credentials, registry: stores.registry, allowAnonymous: true });
    await broker.start();
    try {
      const url = `mqtt://127.0.0.1:${broker.port}`;
      const sub = await connect(url, { clientId: 'anon-sub' });
      const got = collect(sub);
      await sub.subscribeAsync('rg/v1/#', { qos: 1 });
      const pub = await connect(url, { clientId: 'anon-pub' });
      await pub.publishAsync('rg/v1/any/gas/thing/bad-channel', 'x', { qos: 1 });
      await waitFor(() => got.length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the anonymous message' });
      expect(await refusedWith(url, { clientId: 't1/d1', username: 't1/d1', password: 'wrong' })).toBe(4);
    } finally {
      await broker.stop();
      stores.db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('external Mosquitto with exported passwd and acl', () => {
  let dir: string;
  let stores: ReturnType<typeof setupStores>;
  let mosquitto: RunningMosquitto;
  const ingestUser = { username: 'riskgate-ingest', password: 'ingest-secret-for-tests' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-mosq-auth-'));
    stores = setupStores(dir);
    stores.credentials.revoke('t1', 'd2'); // a revoked credential is not exported
    const res = exportMosquitto({ db: stores.db, outDir: join(dir, 'out'), ingestUser, mosquittoIterations: 101 });
    expect(res.devices).toBe(2);
    expect(res.skipped).toEqual([{ username: 't1/ghost', reason: 'device is not registered' }]);
    // The generated snippet, with its paths pointed at the copies the helper writes beside mosquitto.conf.
    const lines = readFileSync(res.files.conf, 'utf8')
      .replaceAll(res.files.passwd, '{config_dir}/passwd')
      .replaceAll(res.files.acl, '{config_dir}/acl')
      .split('\n');
    mosquitto = await startMosquitto({
      extraConfig: { lines, files: { passwd: readFileSync(res.files.passwd, 'utf8'), acl: readFileSync(res.files.acl, 'utf8') } },
    });
  });
  afterAll(async () => {
    await mosquitto?.stop();
    stores.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the export writes one password line per exported user, a deny-by-default ACL and a config snippet', () => {
    const out = join(dir, 'out');
    const passwd = readFileSync(join(out, 'passwd'), 'utf8').trim().split('\n');
    expect(passwd.map((l) => l.split(':')[0])).toEqual(['riskgate-ingest', 't1/d1', 't2/d9']);
    for (const line of passwd) expect(line).toMatch(/^[^:]+:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(statSync(join(out, 'passwd')).mode & 0o777).toBe(0o600);
    const acl = readFileSync(join(out, 'acl'), 'utf8');
    expect(acl).toContain(
      ['user t2/d9', 'topic write rg/v1/t2/smoke/d9/telemetry', 'topic write rg/v1/t2/smoke/d9/event', 'topic write rg/v1/t2/smoke/d9/status', 'topic read rg/down/v1/t2/smoke/d9/#'].join('\n'),
    );
    expect(acl).toContain(['user riskgate-ingest', 'topic read rg/v1/#', 'topic write rg/down/v1/#'].join('\n'));
    expect(acl).not.toMatch(/^user t1\/(d2|ghost)$/m); // revoked, unregistered: no block, so nothing allowed
    expect(acl).not.toMatch(/^pattern /m);
    const conf = readFileSync(join(out, 'mosquitto.conf'), 'utf8');
    for (const line of ['allow_anonymous false', `password_file ${join(out, 'passwd')}`, `acl_file ${join(out, 'acl')}`, 'use_username_as_clientid true', 'set_tcp_nodelay true']) {
      expect(conf.split('\n')).toContain(line);
    }
  });

  test('valid credentials publish and the ingest user receives; wrong or revoked credentials are refused', async () => {
    const url = mosquitto.url;
    const ingest = await connect(url, { clientId: 'rg-ingest', clean: false, ...ingestUser });
    const got = collect(ingest);
    expect((await ingest.subscribeAsync('rg/v1/#', { qos: 1 })).map((g) => g.qos)).toEqual([1]);
    const d1 = await connect(url, { clientId: 't1/d1', ...stores.creds.d1 });
    await d1.publishAsync('rg/v1/t1/gas/d1/telemetry', '{"ok":1}', { qos: 1 });
    await waitFor(() => got.length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the reading at the ingest user' });
    expect(got[0]).toEqual({ topic: 'rg/v1/t1/gas/d1/telemetry', payload: '{"ok":1}' });

    // Mosquitto 2.0 answers a bad password with 0x05 Not authorized.
    expect(await refusedWith(url, { clientId: 't1/d1', username: 't1/d1', password: stores.creds.d9.password })).toBe(5);
    expect(await refusedWith(url, { clientId: 't1/d2', ...stores.creds.d2 })).toBe(5); // revoked before the export
    expect(await refusedWith(url, { clientId: 't1/ghost', ...stores.creds.ghost })).toBe(5); // not registered: not exported
    expect(await refusedWith(url, { clientId: 'anon' })).toBe(5);
    expect(await refusedWith(url, { clientId: 'x', username: ingestUser.username, password: 'wrong' })).toBe(5);
  });

  test("another tenant's topic, another kind and a bad channel are not delivered; a device reads only its own downlink", async () => {
    const url = mosquitto.url;
    const ingest = await connect(url, { clientId: 'rg-ingest', clean: true, ...ingestUser });
    const got = collect(ingest);
    await ingest.subscribeAsync('rg/v1/#', { qos: 1 });
    const d1 = await connect(url, { clientId: 't1/d1', ...stores.creds.d1 });
    const d9 = await connect(url, { clientId: 't2/d9', ...stores.creds.d9 });
    const got1 = collect(d1);
    const got9 = collect(d9);
    // Mosquitto grants the SUBACK but checks read access per message, so nothing foreign arrives.
    await d9.subscribeAsync(['rg/v1/#', 'rg/down/v1/#'], { qos: 1 });
    await d1.subscribeAsync('rg/down/v1/t1/gas/d1/#', { qos: 1 });
    // Mosquitto acknowledges a refused publish and drops it (the other choice of [MQTT-3.3.5-2]).
    for (const topic of ['rg/v1/t2/smoke/d9/telemetry', 'rg/v1/t1/smoke/d1/telemetry', 'rg/v1/t1/gas/d1/command', 'rg/v1/t1/gas/d2/telemetry']) {
      await d1.publishAsync(topic, 'x', { qos: 1 });
    }
    await d9.publishAsync('rg/v1/t2/smoke/d9/status', 'mine', { qos: 1 });
    await ingest.publishAsync('rg/down/v1/t1/gas/d1/reset', 'go', { qos: 1 });
    await waitFor(() => got.length >= 1 && got1.length >= 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the allowed messages' });
    await sleep(300);
    expect(got).toEqual([{ topic: 'rg/v1/t2/smoke/d9/status', payload: 'mine' }]);
    expect(got1).toEqual([{ topic: 'rg/down/v1/t1/gas/d1/reset', payload: 'go' }]);
    expect(got9).toEqual([]);
    expect(d1.connected).toBe(true);
  });
});

describe('riskgate export mosquitto (CLI)', () => {
  test('reads the data dir, generates the ingest password once and reuses it on the next export', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-export-cli-'));
    const stores = setupStores(dir);
    stores.db.close();
    try {
      const out = join(dir, 'mosq');
      const lines: string[] = [];
      const io = { stdout: (s: string) => lines.push(s), stderr: (s: string) => lines.push(`ERR ${s}`) };
      expect(runExportMosquitto(['--data-dir', dir, '--out', out], io)).toBe(0);
      const password = readFileSync(join(out, 'ingest-password'), 'utf8').trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(statSync(join(out, 'ingest-password')).mode & 0o777).toBe(0o600);
      expect(lines.join('')).toContain('ERR skipped t1/ghost: device is not registered');
      const firstHash = readFileSync(join(out, 'passwd'), 'utf8').split('\n')[0] as string;
      expect(runExportMosquitto(['--data-dir', dir, '--out', out], io)).toBe(0);
      expect(readFileSync(join(out, 'ingest-password'), 'utf8').trim()).toBe(password);
      const [user, hash] = (readFileSync(join(out, 'passwd'), 'utf8').split('\n')[0] as string).split(':') as [string, string];
      expect(user).toBe('riskgate-ingest');
      expect(hash).not.toBe(firstHash.split(':')[1]); // fresh salt each export, same password
      const [, , iterations, salt] = hash.split('$') as [string, string, string, string];
      expect(mosquittoHash(password, Number(iterations), Buffer.from(salt, 'base64'))).toBe(hash);
      expect(runExportMosquitto(['--data-dir', join(dir, 'nowhere'), '--out', out], io)).toBe(1);
      expect(runExportMosquitto([], io)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EMQX HTTP authenticator and authorizer', () => {
  const SECRET = 'emqx-shared-secret-0123456789';
  let dir: string;
  let stores: ReturnType<typeof setupStores>;
  let app: FastifyInstance;
  let failing: FastifyInstance;
  let unconfigured: FastifyInstance;
  const ingest = { username: 'riskgate-ingest', password: 'ingest-pw' };

  const build = async (opts: Parameters<typeof brokerAuthRoutes>[1]): Promise<FastifyInstance> => {
    const a = Fastify({ logger: false });
    installErrorHandler(a); // the gateway's handler answers 4xx/5xx: the plugin must override it for its routes
    await a.register(brokerAuthRoutes, opts);
    await a.ready();
    return a;
  };
  const post = async (a: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = { [BROKER_AUTH_SECRET_HEADER]: SECRET }) => {
    const res = await a.inject({ method: 'POST', url, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.statusCode, body: res.json() as Record<string, unknown>, type: res.headers['content-type'] };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-emqx-auth-'));
    stores = setupStores(dir);
    stores.credentials.revoke('t1', 'd2');
    app = await build({ credentials: stores.credentials, registry: stores.registry, secret: SECRET, ingest });
    const broken = {
      verify: () => Promise.reject(new Error('database is locked')),
      isActive: () => {
        throw new Error('database is locked');
      },
    } as unknown as CredentialStore;
    failing = await build({ credentials: broken, registry: stores.registry, secret: SECRET, ingest });
    unconfigured = await build({ credentials: stores.credentials, registry: stores.registry, secret: undefined, ingest });
  });
  afterAll(async () => {
    await Promise.all([app?.close(), failing?.close(), unconfigured?.close()]);
    stores.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const authn = (username: string, password: string, clientid: string) => ({ username, password, clientid });

  test.each([
    { name: 'a device with its credential', body: () => authn('t1/d1', stores.creds.d1.password, 't1/d1'), result: 'allow' },
    { name: 'a device with a client id of its own prefix', body: () => authn('t1/d1', stores.creds.d1.password, 't1/d1/b'), result: 'allow' },
    { name: 'the ingest identity', body: () => authn(ingest.username, ingest.password, 'rg-ingest'), result: 'allow' },
    { name: 'a wrong password', body: () => authn('t1/d1', stores.creds.d9.password, 't1/d1'), result: 'deny' },
    { name: "another client's id", body: () => authn('t1/d1', stores.creds.d1.password, 'rg-ingest'), result: 'deny' },
    { name: 'a revoked credential', body: () => authn('t1/d2', stores.creds.d2.password, 't1/d2'), result: 'deny' },
    { name: 'an unregistered device', body: () => authn('t1/ghost', stores.creds.ghost.password, 't1/ghost'), result: 'deny' },
    { name: 'a wrong ingest password', body: () => authn(ingest.username, 'nope', 'rg-ingest'), result: 'deny' },
    { name: 'an unknown username', body: () => authn('admin', 'admin', 'admin'), result: 'deny' },
    { name: 'a body without clientid', body: () => ({ username: 't1/d1', password: stores.creds.d1.password }), result: 'deny' },
  ])('authn: $name → $result', async ({ body, result }) => {
    const res = await post(app, EMQX_AUTHN_PATH, body());
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    expect(res.body).toEqual({ result, is_superuser: false });
  });

  test.each([
    { name: 'a device publishing its telemetry', body: { username: 't1/d1', topic: 'rg/v1/t1/gas/d1/telemetry', action: 'publish' }, result: 'allow' },
    { name: 'a device subscribing to its downlink', body: { username: 't1/d1', topic: 'rg/down/v1/t1/gas/d1/#', action: 'subscribe' }, result: 'allow' },
    { name: 'the ingest subscribing to rg/v1/#', body: { username: 'riskgate-ingest', topic: 'rg/v1/#', action: 'subscribe' }, result: 'allow' },
    { name: 'the ingest as a shared subscription', body: { username: 'riskgate-ingest', topic: '$share/gw/rg/v1/#', action: 'subscribe' }, result: 'allow' },
    { name: 'the ingest publishing a command', body: { username: 'riskgate-ingest', topic: 'rg/down/v1/t1/gas/d1/reset', action: 'publish' }, result: 'allow' },
    { name: "a device publishing to another tenant's topic", body: { username: 't1/d1', topic: 'rg/v1/t2/smoke/d9/telemetry', action: 'publish' }, result: 'deny' },
    { name: 'a device publishing under another kind', body: { username: 't1/d1', topic: 'rg/v1/t1/smoke/d1/telemetry', action: 'publish' }, result: 'deny' },
    { name: 'a device subscribing to rg/v1/#', body: { username: 't1/d1', topic: 'rg/v1/#', action: 'subscribe' }, result: 'deny' },
    { name: 'a device subscribing to $SYS/#', body: { username: 't1/d1', topic: '$SYS/#', action: 'subscribe' }, result: 'deny' },
    { name: 'a revoked device publishing its own topic', body: { username: 't1/d2', topic: 'rg/v1/t1/gas/d2/telemetry', action: 'publish' }, result: 'deny' },
    { name: 'an unregistered device', body: { username: 't1/ghost', topic: 'rg/v1/t1/gas/ghost/telemetry', action: 'publish' }, result: 'deny' },
    { name: 'an unknown username', body: { username: 'someone', topic: 'rg/v1/#', action: 'subscribe' }, result: 'deny' },
    { name: 'an unknown action', body: { username: 't1/d1', topic: 'rg/v1/t1/gas/d1/telemetry', action: 'all' }, result: 'deny' },
  ])('authz: $name → $result', async ({ body, result }) => {
    const res = await post(app, EMQX_AUTHZ_PATH, body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result });
  });

  test('a missing or wrong shared secret is answered 200 deny (a 401 would be "ignore" to EMQX)', async () => {
    const body = authn('t1/d1', stores.creds.d1.password, 't1/d1');
    for (const headers of [{}, { [BROKER_AUTH_SECRET_HEADER]: 'wrong' }, { [BROKER_AUTH_SECRET_HEADER]: '' }] as Record<string, string>[]) {
      const res = await post(app, EMQX_AUTHN_PATH, body, headers);
      expect(res).toMatchObject({ status: 200, body: { result: 'deny', is_superuser: false } });
    }
    const authz = await post(app, EMQX_AUTHZ_PATH, { username: 't1/d1', topic: 'rg/v1/t1/gas/d1/telemetry', action: 'publish' }, {});
    expect(authz).toMatchObject({ status: 200, body: { result: 'deny' } });
  });

  test('without a configured secret every request is denied', async () => {
    const res = await post(unconfigured, EMQX_AUTHN_PATH, authn('t1/d1', stores.creds.d1.password, 't1/d1'));
    expect(res).toMatchObject({ status: 200, body: { result: 'deny' } });
  });

  test('an internal error is answered 200 deny, never 5xx', async () => {
    const a = await post(failing, EMQX_AUTHN_PATH, authn('t1/d1', stores.creds.d1.password, 't1/d1'));
    expect(a).toMatchObject({ status: 200, body: { result: 'deny' } });
    const z = await post(failing, EMQX_AUTHZ_PATH, { username: 't1/d1', topic: 'rg/v1/t1/gas/d1/telemetry', action: 'publish' });
    expect(z).toMatchObject({ status: 200, body: { result: 'deny' } });
  });

  test('malformed JSON, another content type or an oversized body are answered 200 deny, not 4xx', async () => {
    expect(await post(app, EMQX_AUTHN_PATH, '{"username":')).toMatchObject({ status: 200, body: { result: 'deny' } });
    const form = await app.inject({ method: 'POST', url: EMQX_AUTHN_PATH, payload: 'username=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded', [BROKER_AUTH_SECRET_HEADER]: SECRET } });
    expect({ status: form.statusCode, body: form.json() }).toEqual({ status: 200, body: { result: 'deny' } });
    const big = await post(app, EMQX_AUTHZ_PATH, { username: 't1/d1', topic: 'x'.repeat(2 * 1024 * 1024), action: 'publish' });
    expect(big).toMatchObject({ status: 200, body: { result: 'deny' } });
  });
});
