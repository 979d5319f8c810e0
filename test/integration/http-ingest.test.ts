import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { waitFor } from '../helpers/services.js';
import { metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('HTTP webhook ingest', () => {
  let gw: TestGateway;
  let deviceToken: string;
  let enterpriseToken: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    deviceToken = gw.gateway.tokens.create({ name: 'nb-gas-1', role: 'device', tenant: 't1', deviceId: 'gas-1', createdBy: 'test' }).token;
    enterpriseToken = gw.gateway.tokens.create({ name: 't1-platform', role: 'enterprise', tenant: 't1', createdBy: 'test' }).token;
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const post = async (path: string, body: string, token: string) => {
    const res = await fetch(`${gw.httpUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const stored = () => (gw.gateway.writer as SqlitePointWriter).count('gas');

  test('a device token posts its own reading; it is validated and stored like an MQTT one', async () => {
    await gw.gateway.batcher.flush();
    const before = stored();
    const r = await post('/api/v1/ingest/t1/gas/gas-1', JSON.stringify({ ts: Date.now(), data: { concentration_lel: 3.5 } }), deviceToken);
    expect(r).toEqual({ status: 202, json: { accepted: 1, rejected: 0, errors: [] } });
    await waitFor(() => stored() === before + 1, { timeoutMs: 5000, intervalMs: 20, what: 'the point stored' });
  });

  test('rejects name the field and rule, are counted and dead-lettered with source http', async () => {
    const before = await metricValue(gw.httpUrl, 'riskgate_readings_rejected_total', { reason: 'malformed_json' });
    const bad = await post('/api/v1/ingest/t1/gas/gas-1', '{"ts": 1, "data": ', deviceToken);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ accepted: 0, rejected: 1, errors: [{ reason: 'malformed_json', code: 'RG_ERR_INGEST_MALFORMED_JSON' }] });
    expect(await metricValue(gw.httpUrl, 'riskgate_readings_rejected_total', { reason: 'malformed_json' })).toBe(before + 1);
    const schema = await post('/api/v1/ingest/t1/gas/gas-1', JSON.stringify({ ts: Date.now(), data: { concentration_lel: 150 } }), deviceToken);
    expect(schema.json).toMatchObject({ errors: [{ reason: 'schema_violation', path: 'data.concentration_lel', message: expect.stringContaining('≤ 100') }] });
    const letters = (await gw.api('GET', '/api/v1/dead-letters?limit=2')).json.dead_letters as { source: string }[];
    expect(letters.map((l) => l.source)).toEqual(['http', 'http']);
  });

  test('a device token may not send for another device; an enterprise token sends for its tenant only', async () => {
    expect((await post('/api/v1/ingest/t1/gas/gas-2', JSON.stringify({ ts: Date.now(), data: { concentration_lel: 1 } }), deviceToken)).status).toBe(403);
    expect((await post('/api/v1/ingest/t1/gas/gas-2', JSON.stringify({ ts: Date.now(), data: { concentration_lel: 1 } }), enterpriseToken)).status).toBe(202);
    expect((await post('/api/v1/ingest/t2/smoke/smoke-1', JSON.stringify({ ts: Date.now(), data: { alarm: false } }), enterpriseToken)).status).toBe(403);
    expect((await post('/api/v1/ingest/t1/gas/gas-1', '{}', 'rgt_not-a-real-token')).status).toBe(401);
  });

  test('the batch form reports each item; valid ones are stored, out-of-scope ones refused', async () => {
    await gw.gateway.batcher.flush();
    const before = stored();
    const now = Date.now();
    const r = await post(
      '/api/v1/ingest',
      JSON.stringify({
        items: [
          { tenant: 't1', kind: 'gas', device_id: 'gas-1', payload: { ts: now, data: { concentration_lel: 1 } } },
          { tenant: 't1', kind: 'gas', device_id: 'gas-2', payload: { readings: [{ ts: now, data: { concentration_lel: 2 } }, { ts: now + 1, data: { concentration_lel: -1 } }] } },
          { tenant: 't2', kind: 'smoke', device_id: 'smoke-1', payload: { ts: now, data: { alarm: false } } },
        ],
      }),
      enterpriseToken,
    );
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 2, rejected: 2 });
    expect((r.json.items as { errors: { reason: string; path?: string }[] }[]).map((i) => i.errors.map((e) => `${e.reason}${e.path ? `@${e.path}` : ''}`))).toEqual([
      [],
      ['schema_violation@readings[1].data.concentration_lel'],
      ['forbidden'],
    ]);
    await waitFor(() => stored() === before + 2, { timeoutMs: 5000, intervalMs: 20, what: 'two points stored' });
  });
});
