import { createConnection } from 'node:net';
import { connect, connectAsync, type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  startInfluxd,
  startMosquitto,
  startVictoriaMetrics,
  waitFor,
  type RunningMosquitto,
  type RunningService,
} from '../helpers/services.js';

const TEST_TIMEOUT_MS = 30_000;

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function nextMessage(client: MqttClient, timeoutMs = 5_000): Promise<{ topic: string; payload: string; packet: IPublishPacket }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no MQTT message within ${timeoutMs} ms`)), timeoutMs);
    client.once('message', (topic, payload, packet) => {
      clearTimeout(timer);
      resolve({ topic, payload: payload.toString('utf8'), packet });
    });
  });
}

describe('waitFor', () => {
  test('rejects naming what it waited for and the last error once the deadline passes', async () => {
    const attempt = () => {
      throw new Error('connection refused');
    };
    await expect(waitFor(attempt, { timeoutMs: 100, intervalMs: 20, what: 'the widget' })).rejects.toThrow(
      /timed out after 100 ms waiting for the widget \(last error: connection refused\)/,
    );
  });
});

describe('startMosquitto', () => {
  let broker: RunningMosquitto;
  const clients: MqttClient[] = [];
  const options = { connectTimeout: 5_000, reconnectPeriod: 0, protocolVersion: 4 } as const;

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker?.stop();
  });

  test('delivers a QoS1 message from a publisher to a subscriber', { timeout: TEST_TIMEOUT_MS }, async () => {
    expect(broker.url).toBe(`mqtt://${broker.host}:${broker.port}`);
    const sub = await connectAsync(broker.url, { ...options, clientId: 'rg-test-sub' });
    const pub = await connectAsync(broker.url, { ...options, clientId: 'rg-test-pub' });
    clients.push(sub, pub);
    await sub.subscribeAsync('rg/test/qos1', { qos: 1 });

    const received = nextMessage(sub);
    await pub.publishAsync('rg/test/qos1', 'hello', { qos: 1 });
    const message = await received;

    expect(message).toMatchObject({ topic: 'rg/test/qos1', payload: 'hello', packet: { qos: 1 } });
  });

  test('restart() keeps a QoS1 message queued for an offline persistent session', { timeout: TEST_TIMEOUT_MS }, async () => {
    // MQTT 3.1.1 clean:false sessions never expire by default (a v5 session would need a session expiry interval).
    const persistent = { ...options, clientId: 'rg-test-persistent', clean: false };
    const first = await connectAsync(broker.url, persistent);
    await first.subscribeAsync('rg/test/persist', { qos: 1 });
    await first.endAsync();

    const pub = await connectAsync(broker.url, { ...options, clientId: 'rg-test-pub-offline' });
    await pub.publishAsync('rg/test/persist', 'queued-while-offline', { qos: 1 });
    await pub.endAsync();

    await broker.restart();

    // connect() (not connectAsync) so the listener is attached before the queued PUBLISH can arrive.
    const again = connect(broker.url, persistent);
    clients.push(again);
    const connack = new Promise<boolean>((resolve) => again.once('connect', (packet) => resolve(packet.sessionPresent)));
    const message = await nextMessage(again, 10_000);

    expect(await connack).toBe(true);
    expect(message).toMatchObject({ topic: 'rg/test/persist', payload: 'queued-while-offline', packet: { qos: 1 } });
  });

  test('stop() closes the listening port', { timeout: TEST_TIMEOUT_MS }, async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker.stop();
    expect(await isListening(broker.host, broker.port)).toBe(false);
  });
});

describe('startInfluxd', () => {
  let influx: RunningService;

  beforeAll(async () => {
    influx = await startInfluxd();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  test('writes a line-protocol point over HTTP and reads it back with InfluxQL', { timeout: TEST_TIMEOUT_MS }, async () => {
    const created = await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE rg_test' }) });
    expect(created.status).toBe(200);

    const timestampMs = Date.now();
    const written = await fetch(`${influx.url}/write?db=rg_test&precision=ms`, {
      method: 'POST',
      body: `m_gas,device=d1 ppm=12.5,alarm=true,note="ok" ${timestampMs}`,
    });
    expect(written.status).toBe(204);

    const query = new URLSearchParams({ db: 'rg_test', q: 'SELECT * FROM m_gas', epoch: 'ms' });
    const read = await fetch(`${influx.url}/query?${query}`);
    expect(await read.json()).toEqual({
      results: [
        {
          statement_id: 0,
          // Tags and fields come back as columns in alphabetical order after time; booleans stay booleans.
          series: [{ name: 'm_gas', columns: ['time', 'alarm', 'device', 'note', 'ppm'], values: [[timestampMs, true, 'd1', 'ok', 12.5]] }],
        },
      ],
    });
  });

  test('stop() closes the listening port', { timeout: TEST_TIMEOUT_MS }, async () => {
    await influx.stop();
    expect(await isListening(influx.host, influx.port)).toBe(false);
  });
});

describe('startVictoriaMetrics', () => {
  let vm: RunningService;

  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await vm?.stop();
  });

  test('accepts InfluxDB v2 line protocol and exports it as one series per field', { timeout: TEST_TIMEOUT_MS }, async () => {
    const timestampMs = Date.now();
    const lines = [
      `m_gas,device=d1 ppm=12.5,alarm=true,ok=false,count=3i,code="42",note="x" ${timestampMs}`,
      `m_single,device=d2 value=7 ${timestampMs}`,
    ].join('\n');
    const written = await fetch(`${vm.url}/api/v2/write?org=o&bucket=b&precision=ms`, { method: 'POST', body: lines });
    expect(written.status).toBe(204);

    // How VictoriaMetrics 1.79 (Debian bookworm; the Docker path pins the same LTS line) stores it, checked here:
    // - every field becomes its own series named `<measurement>_<field>` (-influxMeasurementFieldSeparator),
    //   even a lone `value` field (m_single_value) unless -influxSkipSingleField is set;
    // - tags become labels; `org` and `bucket` add no label (no `db` label either);
    // - booleans become numbers: true → 1, false → 0 (as do T/F/t/f);
    // - integers (3i) become floats; quoted strings are parsed as numbers best-effort ("42" → 42)
    //   and anything else is stored as 0 — a string field is silently a 0-valued series, not dropped.
    // A write is not visible at once even with -search.latencyOffset=0s: rows and new index entries are
    // buffered for ~1–6 s. /internal/force_flush shortens it; polling covers the rest.
    await fetch(`${vm.url}/internal/force_flush`);
    const match = new URLSearchParams({ 'match[]': '{__name__=~"m_.*"}' });
    let exported: Array<{ metric: Record<string, string>; values: number[]; timestamps: number[] }> = [];
    await waitFor(
      async () => {
        const body = await (await fetch(`${vm.url}/api/v1/export?${match}`)).text();
        exported = body.split('\n').filter(Boolean).map((line) => JSON.parse(line));
        return exported.length >= 7;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'VictoriaMetrics to export 7 series' },
    );

    const byName = Object.fromEntries(exported.map((series) => [series.metric.__name__, series]));
    expect(Object.keys(byName).sort()).toEqual(
      ['m_gas_alarm', 'm_gas_code', 'm_gas_count', 'm_gas_note', 'm_gas_ok', 'm_gas_ppm', 'm_single_value'],
    );
    expect(byName.m_gas_ppm).toEqual({ metric: { __name__: 'm_gas_ppm', device: 'd1' }, values: [12.5], timestamps: [timestampMs] });
    expect(byName.m_single_value?.metric).toEqual({ __name__: 'm_single_value', device: 'd2' });
    expect(byName.m_gas_alarm?.values).toEqual([1]);
    expect(byName.m_gas_ok?.values).toEqual([0]);
    expect(byName.m_gas_count?.values).toEqual([3]);
    expect(byName.m_gas_code?.values).toEqual([42]);
    expect(byName.m_gas_note?.values).toEqual([0]);
  });

  test('stop() closes the listening port', { timeout: TEST_TIMEOUT_MS }, async () => {
    await vm.stop();
    expect(await isListening(vm.host, vm.port)).toBe(false);
  });
});
