import mqtt from 'mqtt';
import { expect, test } from 'vitest';
import { metricValue, startTestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';

test('gateway with broker auth on: a credentialed device is ingested, anonymous is refused, rotation cuts it, EMQX authn answers', async () => {
  const gw = await startTestGateway({ MQTT_BROKER_ALLOW_ANONYMOUS: 'false', BROKER_AUTH_SECRET: 's3cret-s3cret-s3cret' });
  try {
    const d = gw.gateway.registry.list()[0]!;
    const c = gw.gateway.credentials.issue(d.tenant, d.deviceId);
    await expect(mqtt.connectAsync(gw.mqttUrl, { clientId: 'anon', reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/);
    const dev = await mqtt.connectAsync(gw.mqttUrl, { clientId: c.username, ...c, reconnectPeriod: 0 });
    const seen = async (): Promise<number> => (await metricValue(gw.httpUrl, 'riskgate_readings_accepted_total')) + (await metricValue(gw.httpUrl, 'riskgate_readings_rejected_total'));
    const before = await seen();
    await dev.publishAsync(`rg/v1/${d.tenant}/${d.kind}/${d.deviceId}/telemetry`, JSON.stringify({ ts: Date.now(), data: {} }), { qos: 1 });
    await waitFor(async () => (await seen()) > before, { timeoutMs: 5000, intervalMs: 50, what: 'the reading to be processed' });
    const r = await fetch(`${gw.httpUrl}/api/v1/broker/emqx/authn`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-riskgate-broker-secret': 's3cret-s3cret-s3cret' }, body: JSON.stringify({ username: c.username, password: c.password, clientid: c.username }) });
    expect(await r.json()).toEqual({ result: 'allow', is_superuser: false });
    const gone = new Promise<void>((res) => dev.once('close', () => res()));
    gw.gateway.credentials.rotate(d.tenant, d.deviceId);
    await gone;
    await dev.endAsync(true);
  } finally {
    await gw.stop();
  }
});
