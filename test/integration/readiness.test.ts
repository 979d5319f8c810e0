// /healthz, /readyz and /metrics of the real gateway against an external Mosquitto, including the broker going away.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { EXAMPLE_PAYLOADS } from '../fixtures/payloads.js';
import { connectPublisher, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, waitFor, type RunningMosquitto } from '../helpers/services.js';

/** How long the gateway may take to notice a lost broker, or to reconnect and resubscribe (reconnect period 1 s). */
const TRANSITION_TIMEOUT_MS = 5_000;

interface Readyz {
  status: string;
  checks: Record<string, boolean>;
}

async function readyz(httpUrl: string): Promise<{ status: number; body: Readyz }> {
  const res = await fetch(`${httpUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Readyz };
}

describe('ops routes: health, readiness, metrics', () => {
  let mosquitto: RunningMosquitto | undefined;
  let gw: TestGateway | undefined;
  let published = 0;

  /** Publishes one gas reading and waits until the store holds it: ingest works end to end. */
  async function expectIngestWorks(): Promise<void> {
    const g = gw as TestGateway;
    const pub = await connectPublisher((mosquitto as RunningMosquitto).url);
    try {
      const ts = Date.now() - 60_000 + published++;
      await pub.publishAsync('rg/v1/t1/gas/gas-1/telemetry', JSON.stringify({ ts, data: EXAMPLE_PAYLOADS.gas.data }), { qos: 1 });
      const writer = g.gateway.writer as SqlitePointWriter;
      await waitFor(() => writer.query({ measurement: 'gas', fromMs: ts, toMs: ts }).length === 1, {
        timeoutMs: TRANSITION_TIMEOUT_MS,
        intervalMs: 25,
        what: `the reading at ${ts} to be stored`,
      });
    } finally {
      await pub.endAsync(true);
    }
  }

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    gw = await startTestGateway({ MQTT_URL: mosquitto.url });
  });

  afterAll(async () => {
    await gw?.stop();
    await mosquitto?.stop();
  });

  test('/readyz is 200 with mqtt_subscribed and store true once the gateway is up', async () => {
    expect(await readyz((gw as TestGateway).httpUrl)).toEqual({ status: 200, body: { status: 'ready', checks: { mqtt_subscribed: true, store: true, not_stopping: true } } });
    await expectIngestWorks();
  });

  test('/metrics serves the Prometheus text format with the riskgate_ metrics', async () => {
    const res = await fetch(`${(gw as TestGateway).httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const [name, type] of [
      ['riskgate_readings_accepted_total', 'counter'],
      ['riskgate_readings_rejected_total', 'counter'],
      ['riskgate_mqtt_messages_total', 'counter'],
      ['riskgate_points_written_total', 'counter'],
      ['riskgate_batch_write_seconds', 'histogram'],
      ['riskgate_store_pending_points', 'gauge'],
      ['riskgate_dead_letters', 'gauge'],
    ]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(text).toMatch(/^riskgate_readings_accepted_total\{kind="gas"\} [1-9]\d*$/m);
  });

  test('stopping Mosquitto makes /readyz 503 with mqtt_subscribed false while /healthz stays 200; a broker on the same port brings it back', async () => {
    const g = gw as TestGateway;
    const port = (mosquitto as RunningMosquitto).port;
    await (mosquitto as RunningMosquitto).stop();

    let down: { status: number; body: Readyz } | undefined;
    await waitFor(async () => (down = await readyz(g.httpUrl)).status === 503, { timeoutMs: TRANSITION_TIMEOUT_MS, intervalMs: 50, what: '/readyz to turn 503' });
    expect(down?.body).toEqual({ status: 'not_ready', checks: { mqtt_subscribed: false, store: true, not_stopping: true } });
    expect((await fetch(`${g.httpUrl}/healthz`)).status).toBe(200);

    mosquitto = await startMosquitto({ port });
    await waitFor(async () => (await readyz(g.httpUrl)).status === 200, { timeoutMs: TRANSITION_TIMEOUT_MS, intervalMs: 50, what: '/readyz to return to 200' });
    await expectIngestWorks();
  });

  test('a Mosquitto restart is seen as not ready, then ready again, and ingest resumes', async () => {
    const g = gw as TestGateway;
    expect((await readyz(g.httpUrl)).status).toBe(200);
    // Poll throughout the restart: the gap lasts at least the 1 s reconnect period, far longer than a 20 ms poll.
    const ready: number[] = [];
    const health: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        ready.push((await readyz(g.httpUrl)).status);
        health.push((await fetch(`${g.httpUrl}/healthz`)).status);
        await sleep(20);
      }
    })();
    try {
      await (mosquitto as RunningMosquitto).restart();
      await waitFor(() => ready.includes(503) && ready[ready.length - 1] === 200, {
        timeoutMs: TRANSITION_TIMEOUT_MS,
        intervalMs: 50,
        what: '/readyz to go 503 and back to 200',
      });
    } finally {
      polling = false;
      await poller;
    }
    expect(new Set(ready)).toEqual(new Set([200, 503]));
    expect(new Set(health)).toEqual(new Set([200]));
    await expectIngestWorks();
  });

  test('/healthz answers 200 { status: ok }', async () => {
    const res = await fetch(`${(gw as TestGateway).httpUrl}/healthz`);
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { status: 'ok' } });
  });
});
