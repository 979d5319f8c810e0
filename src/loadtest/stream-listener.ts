import WebSocket from 'ws';
import type { ReceivedAlert, StreamAlertEvent } from './alert-matching.js';
import { wallNow } from './publisher.js';

// The load test's view of the alert stream (src/stream/alert-stream.ts): live events only (no `since`: a run measures
// what it causes), each stamped with its arrival on the publisher's clock.

/** Options of {@link AlertStreamListener}. */
export interface StreamListenerOptions {
  /** Gateway base URL, `http://host:port`. */
  gatewayUrl: string;
  /** A user token (admin, operator or enterprise). */
  token: string;
  /** How long to wait for the server's `hello`, ms. Default 10 000. */
  connectTimeoutMs?: number;
  now?: () => number;
}

/** The stream's URL for a gateway base URL: http → ws, https → wss, path /api/v1/stream. */
export function streamUrl(gatewayUrl: string): string {
  const u = new URL('/api/v1/stream', gatewayUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/** Collects the alert events a gateway streams while it is open. */
export class AlertStreamListener {
  readonly received: ReceivedAlert[] = [];
  /** Set when the stream closed before {@link stop}: the run's alert figures are then incomplete. */
  closedEarly: string | undefined;
  private ws: WebSocket | undefined;
  private stopping = false;
  private readonly now: () => number;

  constructor(private readonly opts: StreamListenerOptions) {
    this.now = opts.now ?? wallNow;
  }

  /** Connects and resolves once the server said hello (from then on no event is missed). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(streamUrl(this.opts.gatewayUrl), { headers: { authorization: `Bearer ${this.opts.token}` } });
      this.ws = ws;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no hello from ${streamUrl(this.opts.gatewayUrl)} within ${this.opts.connectTimeoutMs ?? 10_000} ms`));
      }, this.opts.connectTimeoutMs ?? 10_000);
      ws.on('message', (data: Buffer) => {
        const at = this.now();
        const msg = JSON.parse(data.toString('utf8')) as { type: string; event?: StreamAlertEvent };
        if (msg.type === 'hello') {
          clearTimeout(timer);
          resolve();
        } else if (msg.type === 'alert_event' && msg.event) {
          this.received.push({ receivedAtMs: at, event: msg.event });
        }
      });
      ws.once('close', (code, reason) => {
        clearTimeout(timer);
        if (!this.stopping) this.closedEarly = `stream closed: ${code} ${reason.toString()}`;
        reject(new Error(`the stream closed before hello (${code} ${reason.toString()}): is the token a user token?`));
      });
      // `on`, not `once`: a second error (after a failed connect) must not go unhandled.
      ws.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000).unref();
    });
  }
}
