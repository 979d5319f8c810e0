import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../helpers/services.js';
import { connectPublisher, startTestGateway, type TestGateway } from '../helpers/gateway.js';

interface Received {
  event: { type: string; seq: number };
  alert: { device_id: string; level: number; silenced: boolean; escalations: number };
  text_zh: string;
}

describe('notifications from the running gateway', () => {
  let server: Server;
  let received: Received[] = [];
  let gw: TestGateway;
  let dir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Received);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), 'rg-notify-'));
    writeFileSync(join(dir, 'notifiers.yaml'), `notifiers:\n  - { name: duty, type: webhook, url: "http://127.0.0.1:${port}/hook", levels: [1, 2] }\n`);
    // Level 2 escalates after 3 s here (0.05 min) so the test sees it.
    gw = await startTestGateway({ NOTIFIERS_FILE: join(dir, 'notifiers.yaml'), ALERT_ESCALATE_AFTER_MIN: '0.05,0.05,30,120' });
  });

  afterAll(async () => {
    await gw?.stop();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a raised level 2 alert is posted to the webhook, then escalated while unacknowledged; silenced and level 3 ones are not', async () => {
    received = [];
    const silence = await gw.api('POST', '/api/v1/silences', { reason: '检修', tenant: 't1', device_id: 'gas-2', duration: '1h' });
    expect(silence.status).toBe(201);
    const pub = await connectPublisher(gw.mqttUrl);
    const ts = Date.now();
    await pub.publishAsync('rg/v1/t1/gas/gas-1/telemetry', JSON.stringify({ ts, data: { concentration_lel: 60 } }), { qos: 1 });
    await pub.publishAsync('rg/v1/t1/gas/gas-2/telemetry', JSON.stringify({ ts, data: { concentration_lel: 60 } }), { qos: 1 });
    await pub.publishAsync('rg/v1/t1/dust/dust-1/telemetry', JSON.stringify({ ts, data: { h2_conc_lel: 30 } }), { qos: 1 });
    await waitFor(() => received.some((r) => r.event.type === 'escalated'), { timeoutMs: 15_000, intervalMs: 100, what: 'the escalation notification' });
    const gas1 = received.filter((r) => r.alert.device_id === 'gas-1');
    expect(gas1.map((r) => r.event.type).slice(0, 2)).toEqual(['raised', 'escalated']);
    expect(gas1[0]?.text_zh).toContain('可燃气体浓度二级报警');
    expect(received.some((r) => r.alert.device_id === 'gas-2' || r.alert.device_id === 'dust-1')).toBe(false);
    // Acknowledging stops further escalation.
    const id = gw.gateway.alerts.openAlert('t1', 'gas-1', 'gas.lel')?.id as number;
    expect((await gw.api('POST', `/api/v1/alerts/${id}/ack`, {})).status).toBe(200);
    const count = received.length;
    // Absence needs a wait: longer than one escalation period (3 s) after the acknowledgement.
    await new Promise((r) => setTimeout(r, 4000));
    expect(received.slice(count).filter((r) => r.event.type === 'escalated')).toEqual([]);
    await pub.endAsync();
  }, 30_000);
});
