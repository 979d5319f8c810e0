// Every reject reason of the wire contract, published through a real Mosquitto between valid readings: counted by
// reason, kept in the dead-letter log (newest first, tenant-filterable), the valid readings all stored, the process up.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REJECT_REASONS, type DeadLetter, type RejectReason } from '../../src/pipeline/dead-letters.js';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { EXAMPLE_PAYLOADS } from '../fixtures/payloads.js';
import { connectPublisher, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, waitFor, type RunningService } from '../helpers/services.js';

const MAX_PAYLOAD_BYTES = 1024;
const MAX_AGE_MS = 3_600_000;
const NOW = Date.now();
const OK_TS = NOW - 60_000;

const gasPayload = (over: Record<string, unknown> = {}, ts: unknown = OK_TS): string =>
  JSON.stringify({ ts, seq: 1, data: { ...EXAMPLE_PAYLOADS.gas.data, ...over } });
const smokePayload = (over: Record<string, unknown> = {}): string => JSON.stringify({ ts: OK_TS, data: { ...EXAMPLE_PAYLOADS.smoke.data, ...over } });

const GAS_1 = 'rg/v1/t1/gas/gas-1/telemetry';
const SMOKE_1 = 'rg/v1/t2/smoke/smoke-1/telemetry';

/** One message that must be rejected, and the dead letter it must leave. */
interface RejectCase {
  name: string;
  topic: string;
  payload: string;
  reason: RejectReason;
  /** Tenant the dead letter is filed under (none when the topic could not be parsed). */
  tenant?: string;
  path?: string;
  message: RegExp;
}

const CASES: RejectCase[] = [
  {
    name: 'unknown device',
    topic: 'rg/v1/t1/gas/gas-404/telemetry',
    payload: gasPayload(),
    reason: 'unknown_device',
    tenant: 't1',
    message: /device t1\/gas-404 is not registered/,
  },
  {
    name: 'kind mismatch (a gas detector publishing under /dust/)',
    topic: 'rg/v1/t1/dust/gas-1/telemetry',
    payload: JSON.stringify({ ts: OK_TS, data: EXAMPLE_PAYLOADS.dust.data }),
    reason: 'kind_mismatch',
    tenant: 't1',
    message: /registered as gas, topic says dust/,
  },
  { name: 'topic without a channel', topic: 'rg/v1/t1/gas/gas-1', payload: gasPayload(), reason: 'bad_topic', message: /expected rg\/v1\/\{tenant\}\/\{kind\}\/\{deviceId\}\/\{channel\}/ },
  { name: 'topic with an unknown kind', topic: 'rg/v1/t1/unknown/x/telemetry', payload: gasPayload(), reason: 'bad_topic', message: /unknown kind "unknown"/ },
  { name: 'topic with an unknown channel', topic: 'rg/v1/t1/gas/gas-1/command', payload: gasPayload(), reason: 'bad_topic', message: /unknown channel "command"/ },
  { name: 'malformed JSON', topic: GAS_1, payload: '{"ts": 1, "data": {', reason: 'malformed_json', tenant: 't1', message: /not valid JSON/ },
  {
    name: 'out-of-range value',
    topic: GAS_1,
    payload: gasPayload({ concentration_lel: 150 }),
    reason: 'schema_violation',
    tenant: 't1',
    path: 'data.concentration_lel',
    message: /^data\.concentration_lel: must be ≤ 100 \(%LEL\), got 150$/,
  },
  {
    name: 'unknown key',
    topic: SMOKE_1,
    payload: smokePayload({ humidity_pct: 40 }),
    reason: 'schema_violation',
    tenant: 't2',
    path: 'data.humidity_pct',
    message: /^data\.humidity_pct: unknown field for kind smoke$/,
  },
  {
    name: 'wrong type',
    topic: GAS_1,
    payload: gasPayload({ concentration_lel: 'high' }),
    reason: 'schema_violation',
    tenant: 't1',
    path: 'data.concentration_lel',
    message: /^data\.concentration_lel: must be a number, got "high"$/,
  },
  {
    name: 'payload over INGEST_MAX_PAYLOAD_BYTES',
    topic: SMOKE_1,
    payload: smokePayload({ fw_version: 'x'.repeat(60) }).replace('{', `{"pad":"${'p'.repeat(1200)}",`),
    reason: 'payload_too_large',
    message: /limit 1024/,
  },
  {
    name: 'device time more than 5 min ahead',
    topic: GAS_1,
    payload: gasPayload({}, NOW + 10 * 60_000),
    reason: 'timestamp_out_of_window',
    tenant: 't1',
    path: 'ts',
    message: /^ts .* is outside the accepted window \(60 min back, 5 min ahead of /,
  },
  {
    name: 'device time older than INGEST_MAX_AGE_MS',
    topic: SMOKE_1,
    payload: JSON.stringify({ ts: new Date(NOW - 2 * MAX_AGE_MS).toISOString(), data: EXAMPLE_PAYLOADS.smoke.data }),
    reason: 'timestamp_out_of_window',
    tenant: 't2',
    path: 'ts',
    message: /outside the accepted window/,
  },
];

/** A valid reading published before each reject: alternating devices and tenants, distinct device times. */
function validReading(i: number): { topic: string; payload: string; device: string } {
  const ts = NOW - 5 * 60_000 + i * 1000;
  return i % 2 === 0
    ? { topic: GAS_1, payload: gasPayload({ concentration_lel: i }, ts), device: 'gas-1' }
    : { topic: SMOKE_1, payload: JSON.stringify({ ts, data: { ...EXAMPLE_PAYLOADS.smoke.data, battery_pct: i } }), device: 'smoke-1' };
}

async function deadLetters(gw: TestGateway, query = ''): Promise<DeadLetter[]> {
  const res = await fetch(`${gw.httpUrl}/api/v1/dead-letters${query}`, { headers: gw.auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { dead_letters: DeadLetter[] }).dead_letters;
}

describe('ingest rejects', () => {
  let mosquitto: RunningService | undefined;
  let gw: TestGateway | undefined;
  let publisher: MqttClient | undefined;
  const valid = CASES.map((_, i) => validReading(i));

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    gw = await startTestGateway({ MQTT_URL: mosquitto.url, INGEST_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES), INGEST_MAX_AGE_MS: String(MAX_AGE_MS) });
    publisher = await connectPublisher(mosquitto.url);
    // One at a time, each after the previous PUBACK: the gateway sees them in this order.
    for (const [i, c] of CASES.entries()) {
      const v = valid[i] as (typeof valid)[number];
      await publisher.publishAsync(v.topic, v.payload, { qos: 1 });
      await publisher.publishAsync(c.topic, c.payload, { qos: 1 });
    }
    const g = gw;
    await waitFor(async () => (await metricValue(g.httpUrl, 'riskgate_readings_rejected_total')) >= CASES.length, {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: `${CASES.length} rejects`,
    });
    await waitFor(async () => (await metricValue(g.httpUrl, 'riskgate_points_written_total')) >= valid.length, {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: `${valid.length} valid readings written`,
    });
  });

  afterAll(async () => {
    await publisher?.endAsync(true);
    await gw?.stop();
    await mosquitto?.stop();
  });

  test('every reject reason is counted exactly in riskgate_readings_rejected_total', async () => {
    const url = (gw as TestGateway).httpUrl;
    for (const reason of Object.keys(REJECT_REASONS) as RejectReason[]) {
      const expected = CASES.filter((c) => c.reason === reason).length;
      expect({ reason, count: await metricValue(url, 'riskgate_readings_rejected_total', { reason }) }).toEqual({ reason, count: expected });
    }
    expect(await metricValue(url, 'riskgate_readings_rejected_total')).toBe(CASES.length);
  });

  test.each(CASES.map((c, i) => [c.name, c, i] as const))('%s leaves a dead letter with reason, code, topic, path, message and payload', async (_name, c, i) => {
    const letters = await deadLetters(gw as TestGateway);
    // Newest first: the i-th published reject is (n - 1 - i)-th in the list.
    const letter = letters[CASES.length - 1 - i];
    expect(letter).toMatchObject({ reason: c.reason, code: REJECT_REASONS[c.reason], source: 'mqtt', topic: c.topic, payloadBytes: Buffer.byteLength(c.payload) });
    expect(letter?.tenant).toBe(c.tenant);
    expect(letter?.path).toBe(c.path);
    expect(letter?.message).toMatch(c.message);
    expect(letter?.payload).toBe(c.payload.slice(0, MAX_PAYLOAD_BYTES));
  });

  test('the dead-letter log lists newest first, with increasing ids', async () => {
    const letters = await deadLetters(gw as TestGateway);
    expect(letters.map((l) => [l.reason, l.topic])).toEqual(CASES.map((c) => [c.reason, c.topic]).reverse());
    const ids = letters.map((l) => l.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(await deadLetters(gw as TestGateway, '?limit=2')).toEqual(letters.slice(0, 2));
    expect(await deadLetters(gw as TestGateway, `?before_id=${letters[1]?.id}`)).toEqual(letters.slice(2));
  });

  test.each(['t1', 't2'])('the tenant filter returns only the dead letters of %s', async (tenant) => {
    const letters = await deadLetters(gw as TestGateway, `?tenant=${tenant}`);
    expect(letters.map((l) => [l.reason, l.topic])).toEqual(
      CASES.filter((c) => c.tenant === tenant)
        .map((c) => [c.reason, c.topic])
        .reverse(),
    );
  });

  test('every valid reading published between the rejects is stored', async () => {
    const g = gw as TestGateway;
    const writer = g.gateway.writer as SqlitePointWriter;
    const stored = [...writer.query({ measurement: 'gas' }), ...writer.query({ measurement: 'smoke' })];
    expect(stored.map((p) => `${p.tags.device}@${p.timeMs}`).sort()).toEqual(valid.map((v, i) => `${v.device}@${NOW - 5 * 60_000 + i * 1000}`).sort());
    expect(await metricValue(g.httpUrl, 'riskgate_readings_accepted_total')).toBe(valid.length);
  });

  test('the process stays up: /healthz 200 and /readyz 200', async () => {
    const url = (gw as TestGateway).httpUrl;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  test('GET /api/v1/dead-letters?limit=abc is a 400 RG_ERR_API_BAD_REQUEST naming the field', async () => {
    const res = await fetch(`${(gw as TestGateway).httpUrl}/api/v1/dead-letters?limit=abc`, { headers: (gw as TestGateway).auth });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: { field: string }[] } };
    expect(body.error.code).toBe('RG_ERR_API_BAD_REQUEST');
    expect(body.error.message).toMatch(/^query\.limit: /);
    expect(body.error.details.map((d) => d.field)).toEqual(['query.limit']);
  });
});
