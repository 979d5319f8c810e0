/**
 * Bench system (b): what one writes in an afternoon. mqtt.js on `rg/v1/#` (QoS 1) → JSON.parse → one threshold
 * (concentration_lel ≥ 25 raises, < 22 clears, per device: gas.lel's 一级 with its hysteresis) → line protocol,
 * batched (5000 points or 1 s, as the gateway's defaults) and POSTed to InfluxDB 1.x /write with fetch. No
 * validation, no registry, no spool, no retry: a failed write is counted and its points are lost. Each threshold
 * crossing is printed with the time it was seen, for the bench's alert latency.
 *
 *   node --import tsx bench/naive-pipeline.ts --broker mqtt://… --influx http://… [--db naive] [--qos 1]
 */
import mqtt from 'mqtt';
import { argValue, Reporter, runConsumer, wallNow } from './lib/child-protocol.js';

const BATCH_POINTS = 5000;
const FLUSH_INTERVAL_MS = 1000;
const RAISE = 25;
const CLEAR = 22;

const influx = argValue('influx');
const db = argValue('db', 'naive');
const qos = argValue('qos', '1') === '0' ? 0 : 1;
await fetch(`${influx}/query?q=${encodeURIComponent(`CREATE DATABASE "${db}"`)}`, { method: 'POST' });

const r = new Reporter();
const above = new Map<string, boolean>();
let lines: string[] = [];
let writing: Promise<void> | undefined;

const esc = (s: string): string => s.replace(/[ ,=]/g, (c) => `\\${c}`);

function flush(): void {
  if (lines.length === 0 || writing) return;
  const batch = lines;
  lines = [];
  writing = fetch(`${influx}/write?db=${db}&precision=ms`, { method: 'POST', body: batch.join('\n') })
    .then(async (res) => {
      await res.arrayBuffer();
      if (res.status === 204) r.written += batch.length;
      else r.writeErrors += batch.length;
    })
    .catch(() => {
      r.writeErrors += batch.length;
    })
    .finally(() => {
      writing = undefined;
      if (lines.length >= BATCH_POINTS) flush();
    });
}
setInterval(flush, FLUSH_INTERVAL_MS);

const client = await mqtt.connectAsync(argValue('broker'), { clientId: `rg-bench-naive-${process.pid}`, clean: true, reconnectPeriod: 0 });
client.on('message', (topic, payload) => {
  const msg = JSON.parse(payload.toString('utf8')) as { ts: number; data: Record<string, unknown> };
  r.processed++;
  const [, , tenant = '', kind = '', deviceId = ''] = topic.split('/');
  const key = `${tenant}/${deviceId}`;
  const lel = msg.data.concentration_lel;
  if (typeof lel === 'number') {
    const was = above.get(key) === true;
    if (!was && lel >= RAISE) {
      above.set(key, true);
      r.observe(tenant, deviceId, msg.ts, wallNow(), 'raised');
    } else if (was && lel < CLEAR) {
      above.set(key, false);
      r.observe(tenant, deviceId, msg.ts, wallNow(), 'cleared');
    }
  }
  const tags = [`tenant=${esc(tenant)}`, `device=${esc(deviceId)}`];
  const fields: string[] = [];
  for (const [k, v] of Object.entries(msg.data)) {
    if (typeof v === 'number') fields.push(`${esc(k)}=${v}`);
    else if (typeof v === 'boolean') fields.push(`${esc(k)}=${v}`);
    else if (typeof v === 'string') tags.push(`${esc(k)}=${esc(v)}`);
  }
  if (fields.length > 0) lines.push(`${kind},${tags.join(',')} ${fields.join(',')} ${msg.ts}`);
  if (lines.length >= BATCH_POINTS) flush();
});
await runConsumer(client, qos, r);
