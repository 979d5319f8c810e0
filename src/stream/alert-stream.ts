import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AlertEvent } from '../alerts/alert.js';
import type { AlertStore } from '../alerts/alert-store.js';
import { canSeeAlert } from '../auth/principal.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { GatewayEvents } from '../pipeline/events.js';

export interface AlertStreamOptions {
  store: AlertStore;
  bus: EventBus<GatewayEvents>;
  metrics: Metrics;
  logger: Logger;
  /** Events read from the store per replay step. Default 500. */
  replayPageSize?: number;
  /** A client whose unsent data exceeds this is disconnected (it resumes with `since`), bytes. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Ping interval; a client that misses one pong is disconnected, ms. Default 30 000. */
  pingIntervalMs?: number;
}

/** Messages the server sends, one JSON object per WebSocket text frame. */
export type StreamMessage =
  | { type: 'alert_event'; event: AlertEvent }
  | { type: 'hello'; last_seq: number; replay_from: number | null }
  | { type: 'replay_done'; last_seq: number };

/**
 * `GET /api/v1/stream[?since=<seq>]` (WebSocket). With `since`, every stored event after `seq` is sent first, then live
 * events, none missing or repeated: the live listener is attached before the replay starts and its buffer is
 * de-duplicated by `seq` when the replay ends.
 */
export async function alertStreamRoutes(app: FastifyInstance, opts: AlertStreamOptions): Promise<void> {
  const pageSize = opts.replayPageSize ?? 500;
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;

  app.get<{ Querystring: { since?: string; tenant?: string; region?: string; kind?: string; max_level?: string } }>('/api/v1/stream', { websocket: true }, (socket: WebSocket, req) => {
    const p = req.principal;
    if (!p || p.role === 'device') {
      // Counted and logged like every refused HTTP request (riskgate_http_rejects_total).
      opts.metrics.httpRejects.inc({ code: 'RG_ERR_AUTH_FORBIDDEN' });
      req.log.warn({ token: p?.tokenId, role: p?.role }, 'stream refused: not a user token');
      socket.close(1008, 'a user token (admin, operator or enterprise) is required');
      return;
    }
    // A client's filter narrows its token's scope, never widens it.
    const f = req.query;
    const maxLevel = f.max_level === undefined ? 4 : Number(f.max_level);
    const wanted = (ev: AlertEvent): boolean => {
      const a = ev.alert;
      return (
        canSeeAlert(p, a) &&
        (f.tenant === undefined || a.tenant === f.tenant) &&
        (f.region === undefined || (a.region ?? '').startsWith(f.region)) &&
        (f.kind === undefined || a.kind === f.kind) &&
        a.level <= maxLevel
      );
    };
    const raw = req.query.since;
    const since = raw === undefined || raw === '' ? null : Number(raw);
    if (since !== null && (!Number.isInteger(since) || since < 0)) {
      socket.close(1008, 'since must be a non-negative integer');
      return;
    }
    const owner = {};
    let lastSent = since ?? opts.store.lastSeq();
    let replaying = since !== null;
    const pending: AlertEvent[] = [];
    opts.metrics.wsClients.inc();

    const send = (msg: StreamMessage): void => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > maxBuffered) {
        opts.logger.warn({ lastSent }, 'stream client too slow; disconnecting (it resumes with since)');
        socket.close(1013, 'too slow: reconnect with since');
        return;
      }
      socket.send(JSON.stringify(msg));
    };
    const deliver = (ev: AlertEvent): void => {
      if (ev.seq <= lastSent) return;
      lastSent = ev.seq;
      if (wanted(ev)) send({ type: 'alert_event', event: ev });
    };

    opts.bus.on('alertEvent', owner, (ev) => {
      if (replaying) pending.push(ev);
      else deliver(ev);
    });
    // Idle timeout: a ping every 30 s; a client that did not answer the previous one is dropped (it resumes with since).
    let alive = true;
    socket.on('pong', () => (alive = true));
    const heartbeat = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, opts.pingIntervalMs ?? 30_000);
    heartbeat.unref();
    socket.on('close', () => {
      clearInterval(heartbeat);
      opts.bus.removeOwner(owner);
      opts.metrics.wsClients.dec();
    });
    socket.on('error', (err) => opts.logger.debug({ err: err.message }, 'stream socket error'));
    // Clients send nothing yet; anything they send is ignored.

    send({ type: 'hello', last_seq: opts.store.lastSeq(), replay_from: since });
    if (since === null) return;

    const step = (): void => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > maxBuffered / 2) {
        setTimeout(step, 10); // let the socket drain before reading the next page
        return;
      }
      const page = opts.store.eventsSince(lastSent, pageSize);
      for (const ev of page) deliver(ev);
      if (page.length === pageSize) {
        setImmediate(step);
        return;
      }
      replaying = false;
      for (const ev of pending.splice(0)) deliver(ev);
      send({ type: 'replay_done', last_seq: lastSent });
    };
    step();
  });
}
