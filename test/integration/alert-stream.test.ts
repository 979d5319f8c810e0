import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { AlertEvent } from '../../src/alerts/alert.js';
import { waitFor } from '../helpers/services.js';
import { connectPublisher, startTestGateway, type TestGateway } from '../helpers/gateway.js';

interface Client {
  ws: WebSocket;
  events: AlertEvent[];
  messages: { type: string }[];
  closed: Promise<void>;
}

function openStream(url: string, token = gw.token): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const c: Client = { ws, events: [], messages: [], closed: new Promise((r) => ws.once('close', () => r())) };
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { type: string; event?: AlertEvent };
      c.messages.push(msg);
      if (msg.type === 'alert_event' && msg.event) c.events.push(msg.event);
    });
    ws.once('open', () => resolve(c));
    ws.once('error', reject);
  });
}

const gasTopic = (device: string) => `rg/v1/t1/gas/${device}/telemetry`;
const reading = (lel: number, ts: number) => JSON.stringify({ ts, data: { gas_type: 'CH4', concentration_lel: lel } });
const summary = (evs: AlertEvent[]) => evs.map((e) => `${e.type}:${e.alert.device_id}:${e.alert.rule_id}:L${e.alert.level}`);

let gw: TestGateway;

describe('alert stream', () => {
  beforeAll(async () => {
    // Flapping detection would hold the many flips the second test makes; it is tested on its own elsewhere.
    gw = await startTestGateway({ ALERT_FLAP_FLIPS: '100000', INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '100000' });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test('a client that reconnects with since receives every missed event once, in order, then live ones', async () => {
    const pub = await connectPublisher(gw.mqttUrl);
    const t0 = Date.now() - 60_000;
    const a = await openStream(`${gw.wsUrl}?since=0`);
    await pub.publishAsync(gasTopic('gas-1'), reading(30, t0), { qos: 1 });
    await waitFor(() => a.events.length === 1, { timeoutMs: 5000, intervalMs: 10, what: 'first event on the stream' });
    expect(summary(a.events)).toEqual(['raised:gas-1:gas.lel:L3']);
    const lastSeen = (a.events.at(-1) as AlertEvent).seq;
    a.ws.close();
    await a.closed;

    // While the client is away: a level change, a clear, a reactivation and a second device's alert.
    await pub.publishAsync(gasTopic('gas-1'), reading(55, t0 + 1000), { qos: 1 });
    await pub.publishAsync(gasTopic('gas-1'), reading(10, t0 + 2000), { qos: 1 });
    await pub.publishAsync(gasTopic('gas-1'), reading(28, t0 + 3000), { qos: 1 });
    await pub.publishAsync(gasTopic('gas-2'), reading(60, t0 + 3000), { qos: 1 });
    await waitFor(() => gw.gateway.alertStore.lastSeq() >= lastSeen + 4, { timeoutMs: 5000, intervalMs: 10, what: 'four more events stored' });

    const b = await openStream(`${gw.wsUrl}?since=${lastSeen}`);
    await waitFor(() => b.messages.some((m) => m.type === 'replay_done'), { timeoutMs: 5000, intervalMs: 10, what: 'replay_done' });
    expect(summary(b.events)).toEqual([
      'level_changed:gas-1:gas.lel:L2',
      'cleared:gas-1:gas.lel:L2',
      'reactivated:gas-1:gas.lel:L3',
      'raised:gas-2:gas.lel:L2',
    ]);
    expect(b.events.map((e) => e.seq)).toEqual([lastSeen + 1, lastSeen + 2, lastSeen + 3, lastSeen + 4]);

    // Then live events resume on the same connection.
    await pub.publishAsync(gasTopic('gas-2'), reading(5, t0 + 4000), { qos: 1 });
    await waitFor(() => b.events.length === 5, { timeoutMs: 5000, intervalMs: 10, what: 'live event after replay' });
    expect(summary(b.events.slice(4))).toEqual(['cleared:gas-2:gas.lel:L2']);
    expect((b.events[4] as AlertEvent).seq).toBe(lastSeen + 5);
    // What the stream sent equals what the store holds.
    expect(b.events).toEqual(gw.gateway.alertStore.eventsSince(lastSeen, 100));
    b.ws.close();
    await pub.endAsync();
  });

  test('events raised while a long replay is in progress are neither lost nor repeated', async () => {
    const ingest = (lel: number, ts: number) => gw.gateway.pipeline.ingestMqtt(gasTopic('gas-1'), Buffer.from(reading(lel, ts)));
    // Newer than the first test's readings (older ones would be evaluated as history).
    const t0 = Date.now() - 20_000;
    // 1,500 transitions (raised/cleared/reactivated…): three replay pages and more.
    for (let i = 0; i < 1500; i++) ingest(i % 2 === 0 ? 10 : 30, t0 + i);
    const before = gw.gateway.alertStore.lastSeq();
    const c = await openStream(`${gw.wsUrl}?since=0`);
    // Keep raising events from the pipeline while the replay pages are being sent.
    let extra = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        if (extra >= 200) return resolve();
        ingest(extra % 2 === 0 ? 10 : 30, t0 + 2000 + extra);
        extra++;
        setImmediate(tick);
      };
      tick();
    });
    const last = gw.gateway.alertStore.lastSeq();
    expect(last).toBeGreaterThan(before);
    await waitFor(() => c.events.length > 0 && (c.events.at(-1) as AlertEvent).seq === last, { timeoutMs: 10_000, intervalMs: 20, what: 'stream caught up' });
    const seqs = c.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    c.ws.close();
  });

  test('a since that is not a non-negative integer is refused with close code 1008', async () => {
    const ws = new WebSocket(`${gw.wsUrl}?since=abc`, { headers: gw.auth });
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(1008);
  });
});
