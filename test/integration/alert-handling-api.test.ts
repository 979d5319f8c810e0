import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { AlertEvent } from '../../src/alerts/alert.js';
import { waitFor } from '../helpers/services.js';
import { REPO_ROOT, connectPublisher, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const topic = (device: string) => `rg/v1/t1/gas/${device}/telemetry`;
const payload = (data: Record<string, unknown>, ts = Date.now()) => JSON.stringify({ ts, data });

const api = (gw: TestGateway, method: string, path: string, body?: unknown, token?: string) => gw.api(method, path, body, { token });
const operator = (gw: TestGateway, name: string) => gw.gateway.tokens.create({ name, role: 'operator', regions: ['5101'], createdBy: 'test' }).token;

describe('alert handling over the API', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test('acknowledge, assign, comment and close through REST; every step is streamed and in the audit trail', async () => {
    const events: AlertEvent[] = [];
    const ws = new WebSocket(`${gw.wsUrl}?since=${gw.gateway.alertStore.lastSeq()}`, { headers: gw.auth });
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { type: string; event?: AlertEvent };
      if (m.event) events.push(m.event);
    });
    await new Promise((r) => ws.once('open', r));
    const pub = await connectPublisher(gw.mqttUrl);
    await pub.publishAsync(topic('gas-1'), payload({ concentration_lel: 58 }), { qos: 1 });
    await waitFor(() => events.length === 1, { timeoutMs: 5000, intervalMs: 20, what: 'raised' });
    const id = (events[0] as AlertEvent).alert_id;
    const zhang = operator(gw, 'zhang.wei');
    const li = operator(gw, 'li.na');

    expect((await api(gw, 'POST', `/api/v1/alerts/${id}/ack`, { note: '已通知店长' }, zhang)).status).toBe(200);
    expect((await api(gw, 'POST', `/api/v1/alerts/${id}/ack`, {}, zhang)).json).toMatchObject({ error: { code: 'RG_ERR_ALERT_INVALID_TRANSITION' } });
    expect((await api(gw, 'POST', `/api/v1/alerts/${id}/assign`, { assignee: 'li.na' }, zhang)).status).toBe(200);
    expect((await api(gw, 'POST', `/api/v1/alerts/${id}/comment`, { note: '已到场' }, li)).status).toBe(200);
    const noNote = await api(gw, 'POST', `/api/v1/alerts/${id}/close`, { disposition: 'real_incident', note: '' }, li);
    expect(noNote.status).toBe(400);
    expect(noNote.json).toMatchObject({ error: { code: 'RG_ERR_API_BAD_REQUEST', details: [{ field: 'body.note' }] } });
    const badDisposition = await api(gw, 'POST', `/api/v1/alerts/${id}/close`, { disposition: 'auto_resolved', note: 'x' }, li);
    expect(badDisposition.status).toBe(400);
    expect((await api(gw, 'POST', `/api/v1/alerts/${id}/close`, { disposition: 'real_incident', note: '软管更换' }, li)).status).toBe(200);

    await waitFor(() => events.length === 5, { timeoutMs: 5000, intervalMs: 20, what: 'five events on the stream' });
    expect(events.map((e) => `${e.type}@${e.actor}`)).toEqual(['raised@system', 'acknowledged@zhang.wei', 'assigned@zhang.wei', 'commented@li.na', 'closed@li.na']);
    const detail = await api(gw, 'GET', `/api/v1/alerts/${id}`);
    expect((detail.json.events as AlertEvent[]).map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    expect(detail.json.alert).toMatchObject({ handling: 'closed', disposition: 'real_incident', acknowledged_by: 'zhang.wei', assignee: 'li.na', closed_by: 'li.na' });
    ws.close();
    await pub.endAsync();
  });

  test('silences are created, listed and cancelled through REST, and bad ones refused by field', async () => {
    const created = await api(gw, 'POST', '/api/v1/silences', { reason: '管道改造', tenant: 't1', device_id: 'gas-2', duration: '2h' });
    expect(created.status).toBe(201);
    const silence = created.json.silence as { id: number; ends_at: number; starts_at: number };
    expect(silence.ends_at - silence.starts_at).toBe(7_200_000);
    const pub = await connectPublisher(gw.mqttUrl);
    await pub.publishAsync(topic('gas-2'), payload({ concentration_lel: 70 }), { qos: 1 });
    await waitFor(() => gw.gateway.alerts.openAlert('t1', 'gas-2', 'gas.lel') !== undefined, { timeoutMs: 5000, intervalMs: 20, what: 'the silenced alert' });
    expect(gw.gateway.alerts.openAlert('t1', 'gas-2', 'gas.lel')?.silenced).toBe(true);
    expect(((await api(gw, 'GET', '/api/v1/silences')).json.silences as unknown[]).length).toBe(1);
    expect((await api(gw, 'DELETE', `/api/v1/silences/${silence.id}`)).json).toMatchObject({ silence: { cancelled_by: 'test-admin' } });
    expect(((await api(gw, 'GET', '/api/v1/silences')).json.silences as unknown[]).length).toBe(0);
    const noScope = await api(gw, 'POST', '/api/v1/silences', { reason: 'x', duration: '1h' });
    expect(noScope.json).toMatchObject({ error: { code: 'RG_ERR_API_BAD_REQUEST', details: [{ field: 'body.tenant' }] } });
    const tooLong = await api(gw, 'POST', '/api/v1/silences', { reason: 'x', tenant: 't1', duration: '30d' });
    expect(tooLong.status).toBe(400);
    await pub.endAsync();
  });
});

describe('rule hot reload and restarts', () => {
  let dir: string;
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  test('an edit applies within seconds; an invalid edit is rejected with file:line and the old rules stay', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-reload-'));
    cpSync(join(REPO_ROOT, 'alert-rules'), join(dir, 'rules'), { recursive: true });
    gw = await startTestGateway({ RULES_DIR: join(dir, 'rules') });
    const g = gw;
    const file = join(dir, 'rules/gas.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('{ level: 3, value: 25, clear: 22', '{ level: 3, value: 12, clear: 10'));
    await waitFor(async () => ((await api(g, 'GET', '/api/v1/rules')).json.last_reload as { ok?: boolean } | null)?.ok === true, { timeoutMs: 10_000, intervalMs: 100, what: 'the reload' });
    const pub = await connectPublisher(g.mqttUrl);
    await pub.publishAsync(topic('gas-1'), payload({ concentration_lel: 15 }), { qos: 1 });
    await waitFor(() => g.gateway.alerts.openAlert('t1', 'gas-1', 'gas.lel')?.level === 3, { timeoutMs: 5000, intervalMs: 20, what: 'the alert at the new threshold' });

    writeFileSync(file, original.replace('{ level: 3, value: 25, clear: 22', '{ level: 3, value: oops, clear: 22'));
    await waitFor(async () => ((await api(g, 'GET', '/api/v1/rules')).json.last_reload as { ok?: boolean } | null)?.ok === false, { timeoutMs: 10_000, intervalMs: 100, what: 'the rejected reload' });
    const status = (await api(g, 'GET', '/api/v1/rules')).json.last_reload as { problems: string[] };
    expect(status.problems[0]).toMatch(/gas\.yaml:\d+:\d+ rules\[\d+\]\.levels\[1\]\.value: Invalid input: expected number/);
    // The previous (edited) rules are still in force: 13 %LEL on gas-2 raises at level 3.
    await pub.publishAsync(topic('gas-2'), payload({ concentration_lel: 13 }), { qos: 1 });
    await waitFor(() => g.gateway.alerts.openAlert('t1', 'gas-2', 'gas.lel')?.level === 3, { timeoutMs: 5000, intervalMs: 20, what: 'the old rules still applied' });
    await pub.endAsync();
  });

  test('a half-elapsed for duration continues across a gateway restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-restart-'));
    const rules = join(dir, 'rules');
    cpSync(join(REPO_ROOT, 'test/fixtures/rules-for'), rules, { recursive: true });
    const dataDir = join(dir, 'data');
    const t = Date.now();
    gw = await startTestGateway({ RULES_DIR: rules }, { dataDir });
    let pub = await connectPublisher(gw.mqttUrl);
    await pub.publishAsync(topic('gas-1'), payload({ concentration_ppm: 40 }, t - 70_000), { qos: 1 });
    await pub.publishAsync(topic('gas-1'), payload({ concentration_ppm: 41 }, t - 40_000), { qos: 1 });
    await waitFor(() => (gw as TestGateway).gateway.metrics.readingsAccepted.get().then((m) => m.values.some((v) => v.value === 2)), { timeoutMs: 5000, intervalMs: 20, what: 'two readings accepted' });
    await pub.endAsync();
    await gw.stop({ keepData: true });

    gw = await startTestGateway({ RULES_DIR: rules }, { dataDir });
    pub = await connectPublisher(gw.mqttUrl);
    await pub.publishAsync(topic('gas-1'), payload({ concentration_ppm: 42 }, t), { qos: 1 });
    const g = gw;
    await waitFor(() => g.gateway.alerts.openAlert('t1', 'gas-1', 'co.for') !== undefined, { timeoutMs: 5000, intervalMs: 20, what: 'the alert after the restart' });
    expect(g.gateway.alerts.openAlert('t1', 'gas-1', 'co.for')).toMatchObject({ raised_at: t, count: 1 });
    await pub.endAsync();
  });
});
