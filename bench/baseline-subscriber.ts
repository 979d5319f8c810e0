/**
 * Bench system (a): the floor. A bare mqtt.js subscriber on `rg/v1/#` (QoS 1, as the gateway subscribes) that only
 * JSON.parses each message and counts it. Every 64th message it notes when it arrived, so the bench can report the
 * broker's delivery latency (publish → parsed here) as the floor under every alert latency.
 *
 *   node --import tsx bench/baseline-subscriber.ts --broker mqtt://127.0.0.1:1883 [--qos 1]
 */
import mqtt from 'mqtt';
import { argValue, Reporter, runConsumer, wallNow } from './lib/child-protocol.js';

const SAMPLE_EVERY = 64;

const qos = argValue('qos', '1') === '0' ? 0 : 1;
const client = await mqtt.connectAsync(argValue('broker'), { clientId: `rg-bench-baseline-${process.pid}`, clean: true, reconnectPeriod: 0 });
const r = new Reporter();
client.on('message', (topic, payload) => {
  const msg = JSON.parse(payload.toString('utf8')) as { ts?: number };
  r.processed++;
  if (r.processed % SAMPLE_EVERY === 0) {
    const parts = topic.split('/');
    r.observe(parts[2] ?? '', parts[4] ?? '', Number(msg.ts), wallNow(), 'delivered');
  }
});
await runConsumer(client, qos, r);
