/**
 * The bench's alert observer: a WebSocket client in a process of its own that stamps each alert transition the
 * moment it arrives and reports it on stdout (bench/lib/child-protocol.ts). The bench process itself publishes up to
 * 24 000 messages a second and handles their PUBACKs; a `message` event waiting behind that in its event loop would
 * be stamped late and charged to the system under test. The naive script stamps its transitions in its own process
 * too, so every system's latency ends at a timestamp taken by an otherwise idle process.
 *
 *   node --import tsx bench/stream-observer.ts --riskgate http://127.0.0.1:8080 --token rgt_…   (alert stream)
 *   node --import tsx bench/stream-observer.ts --nodered ws://127.0.0.1:1880/rg-bench          (the flow's websocket out)
 */
import WebSocket from 'ws';
import { triggeringTs, type StreamAlertEvent } from '../src/loadtest/alert-matching.js';
import { streamUrl } from '../src/loadtest/stream-listener.js';
import { emit, Reporter, wallNow } from './lib/child-protocol.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const riskgate = arg('riskgate');
const nodered = arg('nodered');
if ((riskgate === undefined) === (nodered === undefined)) throw new Error('one of --riskgate URL --token T or --nodered WS_URL');

const r = new Reporter();
const ws =
  riskgate !== undefined
    ? new WebSocket(streamUrl(riskgate), { headers: { authorization: `Bearer ${arg('token') ?? ''}` } })
    : new WebSocket(nodered as string);
ws.on('error', (err) => {
  process.stderr.write(`stream-observer: ${err.message}\n`);
  process.exit(1);
});
ws.on('close', () => process.exit(0));
if (nodered !== undefined) ws.on('open', () => emit({ type: 'ready' }));
ws.on('message', (data: Buffer) => {
  const at = wallNow();
  if (riskgate !== undefined) {
    const msg = JSON.parse(data.toString('utf8')) as { type: string; event?: StreamAlertEvent };
    if (msg.type === 'hello') emit({ type: 'ready' });
    else if (msg.type === 'alert_event' && msg.event) {
      const ts = triggeringTs(msg.event);
      if (ts !== undefined) r.observe(msg.event.alert.tenant, msg.event.alert.device_id, ts, at, msg.event.type);
    }
  } else {
    const m = JSON.parse(data.toString('utf8')) as { t: string; tenant?: string; device?: string; ts?: number; what?: string };
    if (m.t === 'alert') r.observe(m.tenant as string, m.device as string, m.ts as number, at, m.what ?? '');
  }
});
r.start();
process.on('SIGTERM', () => {
  r.flush();
  ws.terminate();
  process.exit(0);
});
