import WebSocket from 'ws';

/** Prints every message of the alert stream as one line; reconnects with `since` after a drop. */
export async function watchStream(url: string, since: string | undefined, token: string): Promise<void> {
  let last: string | undefined = since;
  const connect = (): void => {
    const u = new URL(url);
    if (last !== undefined) u.searchParams.set('since', last);
    const ws = new WebSocket(u, { headers: { authorization: `Bearer ${token}` } });
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const msg = JSON.parse(text) as { type: string; event?: { seq: number; type: string; alert: { title: string; level: number; tenant: string; device_id: string; last_value: number | null } } };
      const ev = msg.event;
      if (msg.type === 'alert_event' && ev) {
        last = String(ev.seq);
        const a = ev.alert;
        process.stdout.write(`#${ev.seq} ${ev.type} L${a.level} ${a.tenant}/${a.device_id} ${a.title} value=${a.last_value}\n`);
      } else {
        process.stdout.write(`${text}\n`);
      }
    });
    ws.on('close', () => setTimeout(connect, 1000));
    ws.on('error', (err) => process.stderr.write(`stream: ${err.message}; retrying\n`));
  };
  connect();
}
