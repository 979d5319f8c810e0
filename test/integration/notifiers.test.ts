import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, AlertEvent } from '../../src/alerts/alert.js';
import { dingTalkSign } from '../../src/alerts/notifiers/formats.js';
import type { NotifierConfig } from '../../src/alerts/notifiers/notifier-config.js';
import { NotificationService, Notifier, type NotifierOptions } from '../../src/alerts/notifiers/webhook-notifier.js';
import { EventBus } from '../../src/lib/event-bus.js';
import { createMetrics, type Metrics } from '../../src/lib/metrics.js';
import { openSqlite, type SqliteDb } from '../../src/lib/sqlite.js';
import type { GatewayEvents } from '../../src/pipeline/events.js';
import { freePort } from '../helpers/ports.js';
import { sampleAlert } from '../fixtures/alerts.js';

/** What the scripted server answers; the last reply of a path repeats. */
interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer after this long, ms. */
  delayMs?: number;
}

interface Received {
  url: URL;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** performance.now() when the request arrived. */
  atMs: number;
}

let server: Server;
let base: string;
let dir: string;
let db: SqliteDb;
let metrics: Metrics;
const scripts = new Map<string, Reply[]>();
const received = new Map<string, Received[]>();
const pendingReplies = new Set<ReturnType<typeof setTimeout>>();
const started: { stop(): Promise<void> }[] = [];
let pathNo = 0;
let notifierNo = 0;

/** A fresh path on the server answering `replies` in turn. */
function endpoint(...replies: Reply[]): { path: string; url: string; requests: () => Received[] } {
  const path = `/hook-${++pathNo}`;
  scripts.set(path, replies);
  received.set(path, []);
  return { path, url: `${base}${path}?access_token=t`, requests: () => received.get(path) ?? [] };
}

function notifier(url: string, config: Partial<NotifierConfig> = {}, options: Partial<NotifierOptions> = {}): Notifier {
  const n = new Notifier({
    config: {
      name: `n${++notifierNo}`,
      type: 'webhook',
      url,
      events: ['raised', 'escalated'],
      levels: [1, 2, 3, 4],
      headers: { authorization: 'Bearer test' },
      timeoutMs: 2000,
      retry: { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 1000, factor: 2, jitter: 0.2 },
      ...config,
    },
    db,
    metrics,
    options,
    random: () => 0.5, // no jitter: delays are exactly 20, 40, 80 ms
  });
  n.start();
  started.push(n);
  return n;
}

const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);
let seq = 1000;

function event(type: AlertEvent['type'] = 'raised', over: Partial<Alert> = {}): AlertEvent {
  const alert = sampleAlert({ id: 7, count: 1, last_value: 26, peak_value: 26, raised_at: T0, last_at: T0, updated_at: T0, created_at: T0, ...over });
  return { seq: ++seq, type, alert_id: alert.id, at: T0, actor: 'system', note: null, alert };
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deadLetters(notifierName: string): { seq: number; attempts: number; last_error: string; payload: string }[] {
  return db.prepare('SELECT seq, attempts, last_error, payload FROM notification_dead_letters WHERE notifier = ? ORDER BY id').all(notifierName) as never;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rg-notifiers-'));
  db = openSqlite(join(dir, 'gateway.sqlite'));
  metrics = createMetrics({ defaultMetrics: false });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const text = Buffer.concat(chunks).toString('utf8');
      received.get(url.pathname)?.push({ url, headers: req.headers, body: text ? JSON.parse(text) : undefined, atMs: performance.now() });
      const script = scripts.get(url.pathname) ?? [{ status: 404 }];
      const reply = (script.length > 1 ? script.shift() : script[0]) as Reply;
      const answer = () => {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(reply.body ?? '');
      };
      if (reply.delayMs === undefined) return answer();
      const timer = setTimeout(() => {
        pendingReplies.delete(timer);
        answer();
      }, reply.delayMs);
      pendingReplies.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

afterAll(async () => {
  for (const t of pendingReplies) clearTimeout(t);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Notifier (webhook, against a local HTTP server)', () => {
  test('a 200 delivers the generic payload with the configured headers, once', async () => {
    const ep = endpoint({ status: 200 });
    const n = notifier(ep.url);
    const ev = event();
    expect(n.notify(ev)).toBe('queued');
    await waitUntil(() => n.stats.sent === 1, 'the delivery');
    const [req] = ep.requests();
    expect(ep.requests()).toHaveLength(1);
    expect(req?.headers.authorization).toBe('Bearer test');
    expect(req?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(req?.headers['x-riskgate-seq']).toBe(String(ev.seq));
    expect(req?.body).toMatchObject({ version: 1, event: { seq: ev.seq, type: 'raised' }, alert: { id: 7, level: 2 } });
    expect((req?.body as { text_zh: string }).text_zh).toMatch(/^【橙色预警】可燃气体浓度二级报警\n/);
    expect(await metrics.registry.getSingleMetricAsString('riskgate_notifications_total')).toContain(`riskgate_notifications_total{notifier="${n.name}",outcome="sent"} 1`);
  });

  test('500, 500, then 200 is delivered on the third attempt after growing delays', async () => {
    const ep = endpoint({ status: 500 }, { status: 500 }, { status: 200 });
    const n = notifier(ep.url);
    n.notify(event());
    await waitUntil(() => n.stats.sent === 1, 'the delivery');
    const at = ep.requests().map((r) => r.atMs);
    expect(at).toHaveLength(3);
    const [gap1, gap2] = [(at[1] as number) - (at[0] as number), (at[2] as number) - (at[1] as number)];
    expect(gap1).toBeGreaterThanOrEqual(18); // 20 ms
    expect(gap2).toBeGreaterThanOrEqual(38); // 40 ms
    expect(gap2).toBeGreaterThan(gap1);
    expect(n.stats).toMatchObject({ sent: 1, retried: 2, deadLettered: 0, queued: 0 });
    expect(deadLetters(n.name)).toEqual([]);
  });

  test('a 400 is dead-lettered at once, without a retry', async () => {
    const ep = endpoint({ status: 400, body: '{"error":"bad field"}' });
    const n = notifier(ep.url);
    const ev = event();
    n.notify(ev);
    await waitUntil(() => n.stats.deadLettered === 1, 'the dead letter');
    await sleep(100);
    expect(ep.requests()).toHaveLength(1);
    const [dl] = deadLetters(n.name);
    expect(dl).toMatchObject({ seq: ev.seq, attempts: 1, last_error: 'HTTP 400: {"error":"bad field"}' });
    expect(JSON.parse(dl?.payload ?? '')).toMatchObject({ version: 1, event: { seq: ev.seq } });
  });

  test('an endpoint that always answers 503 is dead-lettered after max_attempts', async () => {
    const ep = endpoint({ status: 503, body: 'maintenance' });
    const n = notifier(ep.url);
    n.notify(event());
    await waitUntil(() => n.stats.deadLettered === 1, 'the dead letter');
    expect(ep.requests()).toHaveLength(4);
    expect(deadLetters(n.name)).toMatchObject([{ attempts: 4, last_error: 'HTTP 503: maintenance' }]);
    expect(n.stats).toMatchObject({ sent: 0, retried: 3, deadLettered: 1 });
    const text = await metrics.registry.getSingleMetricAsString('riskgate_notifications_total');
    expect(text).toContain(`riskgate_notifications_total{notifier="${n.name}",outcome="retried"} 3`);
    expect(text).toContain(`riskgate_notifications_total{notifier="${n.name}",outcome="dead_lettered"} 1`);
  });

  test('a 429 with Retry-After: 1 waits a second before the next attempt', async () => {
    const ep = endpoint({ status: 429, headers: { 'retry-after': '1' } }, { status: 200 });
    const n = notifier(ep.url);
    n.notify(event());
    await waitUntil(() => n.stats.sent === 1, 'the delivery');
    const at = ep.requests().map((r) => r.atMs);
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(980);
  });

  test('an attempt that times out is retried, then dead-lettered', async () => {
    const ep = endpoint({ status: 200, delayMs: 1000 });
    const n = notifier(ep.url, { timeoutMs: 100, retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0 } });
    n.notify(event());
    await waitUntil(() => n.stats.deadLettered === 1, 'the dead letter');
    expect(deadLetters(n.name)).toMatchObject([{ attempts: 2, last_error: 'timeout after 100 ms' }]);
  });

  test('a refused connection is retried as a network error', async () => {
    const n = notifier(`http://127.0.0.1:${await freePort()}/hook`, { retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0 } });
    n.notify(event());
    await waitUntil(() => n.stats.deadLettered === 1, 'the dead letter');
    expect(n.stats.retried).toBe(1);
    expect(deadLetters(n.name)).toMatchObject([{ attempts: 2, last_error: 'network error: ECONNREFUSED' }]);
  });

  test('deliveries keep seq order: a failing head delays, then precedes, the later events', async () => {
    const ep = endpoint({ status: 500 }, { status: 200 });
    const n = notifier(ep.url);
    const evs = [event(), event(), event()];
    for (const ev of evs) n.notify(ev);
    await waitUntil(() => n.stats.sent === 3, 'three deliveries');
    expect(ep.requests().map((r) => (r.body as { event: { seq: number } }).event.seq)).toEqual([evs[0]?.seq, evs[0]?.seq, evs[1]?.seq, evs[2]?.seq]);
  });

  test('only the configured events, levels and tenants are sent; historical and silenced alerts never', async () => {
    const ep = endpoint({ status: 200 });
    const n = notifier(ep.url, { events: ['raised'], levels: [1, 2], tenants: ['acme'] });
    const outcomes = [
      n.notify(event('raised', { level: 3 })),
      n.notify(event('cleared', { level: 1 })),
      n.notify(event('raised', { tenant: 'other' })),
      n.notify(event('raised', { historical: true })),
      n.notify(event('raised', { silenced: true })),
      n.notify(event('raised', { level: 1 })),
    ];
    expect(outcomes).toEqual(['filtered', 'filtered', 'filtered', 'filtered', 'filtered', 'queued']);
    await waitUntil(() => n.stats.sent === 1, 'the delivery');
    await sleep(50);
    expect(ep.requests()).toHaveLength(1);
    expect(n.stats.filtered).toBe(5);
  });

  test('beyond the queue bound a notification is dead-lettered as "queue full", not dropped', async () => {
    const ep = endpoint({ status: 200, delayMs: 200 });
    const n = notifier(ep.url, {}, { maxQueueLength: 2 });
    const evs = [event(), event(), event()];
    expect(evs.map((ev) => n.notify(ev))).toEqual(['queued', 'queued', 'dead_lettered']);
    expect(deadLetters(n.name)).toMatchObject([{ seq: evs[2]?.seq, attempts: 0, last_error: 'queue full' }]);
    await waitUntil(() => n.stats.sent === 2, 'two deliveries');
  });
});

describe('Notifier (DingTalk and WeCom robots)', () => {
  const SECRET = 'SECtest-secret';

  test('DingTalk requests are signed, and errcode 310000 under HTTP 200 is a permanent failure', async () => {
    const ep = endpoint({ status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' });
    const n = notifier(ep.url, { type: 'dingtalk', secret: SECRET });
    n.notify(event());
    await waitUntil(() => n.stats.deadLettered === 1, 'the dead letter');
    const [req] = ep.requests();
    const ts = Number(req?.url.searchParams.get('timestamp'));
    expect(Math.abs(ts - Date.now())).toBeLessThan(60_000);
    expect(req?.url.searchParams.get('sign')).toBe(dingTalkSign(SECRET, ts));
    expect(req?.url.searchParams.get('access_token')).toBe('t');
    expect(req?.body).toMatchObject({ msgtype: 'markdown', markdown: { title: '【橙色预警】可燃气体浓度二级报警' } });
    expect(ep.requests()).toHaveLength(1);
    expect(deadLetters(n.name)).toMatchObject([{ attempts: 1, last_error: 'errcode 310000: sign not match' }]);
  });

  test('a DingTalk rate limit (errcode 410100) is retried until errcode 0', async () => {
    const ep = endpoint({ status: 200, body: '{"errcode":410100,"errmsg":"send too fast"}' }, { status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
    const n = notifier(ep.url, { type: 'dingtalk' });
    n.notify(event());
    await waitUntil(() => n.stats.sent === 1, 'the delivery');
    expect(ep.requests()).toHaveLength(2);
    expect(n.stats.retried).toBe(1);
  });

  test('WeCom errcode 93000 (invalid webhook url) is dead-lettered at once; the body is WeCom markdown', async () => {
    const ep = endpoint({ status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' });
    const n = notifier(ep.url, { type: 'wecom' });
    n.notify(event());
    await waitUntil(() => n.stats.deadLettered === 1, 'the dead letter');
    expect(ep.requests()[0]?.body).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.stringContaining('<font color="warning">') } });
    expect(deadLetters(n.name)).toMatchObject([{ attempts: 1, last_error: 'errcode 93000: invalid webhook url' }]);
  });
});

describe('Notifier.stop', () => {
  test('waits for the delivery in flight', async () => {
    const ep = endpoint({ status: 200, delayMs: 300 });
    const n = notifier(ep.url);
    n.notify(event());
    await waitUntil(() => ep.requests().length === 1, 'the request');
    const t0 = performance.now();
    await n.stop();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(n.stats).toMatchObject({ sent: 1, deadLettered: 0, queued: 0 });
    expect(n.notify(event())).toBe('dead_lettered');
    expect(deadLetters(n.name)).toMatchObject([{ attempts: 0, last_error: 'notifier stopped' }]);
  });

  test('gives up after stopTimeoutMs: the attempt in flight and the queue are dead-lettered', async () => {
    const ep = endpoint({ status: 200, delayMs: 5000 });
    const n = notifier(ep.url, {}, { stopTimeoutMs: 200 });
    const evs = [event(), event()];
    for (const ev of evs) n.notify(ev);
    await waitUntil(() => ep.requests().length === 1, 'the request');
    const t0 = performance.now();
    await n.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(deadLetters(n.name)).toMatchObject([
      { seq: evs[0]?.seq, attempts: 1, last_error: 'aborted: gateway stopped' },
      { seq: evs[1]?.seq, attempts: 0, last_error: 'gateway stopped before delivery' },
    ]);
  });

  test('a retry due after the stop deadline is dead-lettered at once', async () => {
    const ep = endpoint({ status: 503 });
    const n = notifier(ep.url, { retry: { maxAttempts: 5, initialDelayMs: 10_000, maxDelayMs: 60_000, factor: 2, jitter: 0 } }, { stopTimeoutMs: 500 });
    n.notify(event());
    await waitUntil(() => n.stats.retried === 1, 'the first failure');
    const t0 = performance.now();
    await n.stop();
    expect(performance.now() - t0).toBeLessThan(200);
    expect(deadLetters(n.name)).toMatchObject([{ attempts: 1, last_error: 'HTTP 503 (gateway stopped before the next attempt)' }]);
  });
});

describe('NotificationService', () => {
  test('feeds every notifier from the bus, lists dead letters, and unsubscribes on stop', async () => {
    const ok = endpoint({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
    const bad = endpoint({ status: 404, body: 'no such hook' });
    const bus = new EventBus<GatewayEvents>();
    const common = { events: ['raised'], levels: [1, 2, 3, 4], headers: {}, timeoutMs: 2000, retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 100, factor: 2, jitter: 0 } } as const;
    const service = new NotificationService({
      notifiers: [
        { ...common, events: [...common.events], levels: [...common.levels], name: 'svc-wecom', type: 'wecom', url: ok.url },
        { ...common, events: [...common.events], levels: [...common.levels], name: 'svc-broken', type: 'webhook', url: bad.url },
      ],
      bus,
      db,
      metrics,
    });
    service.start();
    started.push(service);
    const ev = event();
    bus.emit('alertEvent', ev);
    await waitUntil(() => service.stats()['svc-broken']?.deadLettered === 1 && service.stats()['svc-wecom']?.sent === 1, 'both outcomes');
    expect(ok.requests()[0]?.body).toMatchObject({ msgtype: 'markdown' });
    const [latest] = service.deadLetters(1);
    expect(latest).toMatchObject({ notifier: 'svc-broken', alert_id: 7, seq: ev.seq, attempts: 1, last_error: 'HTTP 404: no such hook', payload: { version: 1, event: { seq: ev.seq } } });
    expect(service.deadLetterCount()).toBeGreaterThanOrEqual(1);
    await service.stop();
    bus.emit('alertEvent', event());
    await sleep(50);
    expect(bad.requests()).toHaveLength(1);
  });
});
