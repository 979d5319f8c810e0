/* global WebSocket, location, window, URLSearchParams */

/** Reconnect delays: doubling from 1 s to at most 15 s, with up to 30 % jitter so a centre's consoles spread out. */
const BACKOFF = { firstMs: 1000, maxMs: 15_000, jitter: 0.3 };
/** A connection without the server's hello after this long is given up and retried, ms (a half-open network). */
const HELLO_TIMEOUT_MS = 10_000;

/**
 * The alert event stream (`/api/v1/stream`, README "Alerts, handling and the stream"). The first connection starts at
 * the server's current seq; every reconnect asks for `since=<last seq seen>`, so the server replays each event stored
 * meanwhile exactly once before going live again.
 *
 * Callbacks: `onEvent(event, { replay })`, `onState(state)` with state `connecting | replaying | live | offline`,
 * `onHello(lastSeq)` once, on the first connection.
 */
export class AlertStream {
  constructor(token, { onEvent, onState, onHello }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onHello = onHello;
    /** Highest seq the server has accounted for (sent, or skipped as outside the filter); null before the first hello. */
    this.lastSeq = null;
    this.ws = null;
    this.stopped = false;
    this.delayMs = BACKOFF.firstMs;
    this.timer = null;
    this.helloTimer = null;
    this.replaying = false;
    this.onOffline = () => this.drop();
    this.onOnline = () => this.reconnectNow();
  }

  start() {
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.timer);
    clearTimeout(this.helloTimer);
    this.ws?.close(1000, 'signed out');
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = new URLSearchParams({ access_token: this.token });
    if (this.lastSeq !== null) q.set('since', String(this.lastSeq));
    return `${proto}//${location.host}/api/v1/stream?${q}`;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.onState('connecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    this.helloTimer = setTimeout(() => this.ws === ws && this.drop(), HELLO_TIMEOUT_MS);
    ws.onmessage = (m) => this.handle(JSON.parse(m.data));
    ws.onclose = () => {
      clearTimeout(this.helloTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.onState('offline');
      this.schedule();
    };
  }

  handle(msg) {
    if (msg.type === 'hello') {
      clearTimeout(this.helloTimer);
      this.delayMs = BACKOFF.firstMs;
      if (this.lastSeq === null) {
        this.lastSeq = msg.last_seq;
        this.onHello(msg.last_seq);
      }
      this.replaying = msg.replay_from !== null;
      this.onState(this.replaying ? 'replaying' : 'live');
    } else if (msg.type === 'alert_event') {
      this.lastSeq = Math.max(this.lastSeq ?? 0, msg.event.seq);
      this.onEvent(msg.event, { replay: this.replaying });
    } else if (msg.type === 'replay_done') {
      // Events after the last one sent were outside this token's scope or filter: no need to ask for them again.
      this.lastSeq = Math.max(this.lastSeq ?? 0, msg.last_seq);
      this.replaying = false;
      this.onState('live');
    }
  }

  /** The network went away (browser `offline`): close at once rather than wait for a ping to time out. */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    clearTimeout(this.helloTimer);
    this.ws = null;
    ws.onclose = null;
    ws.close();
    this.onState('offline');
    this.schedule();
  }

  reconnectNow() {
    if (this.ws || this.stopped) return;
    this.delayMs = BACKOFF.firstMs;
    this.connect();
  }

  schedule() {
    clearTimeout(this.timer);
    const delay = this.delayMs * (1 + Math.random() * BACKOFF.jitter);
    this.delayMs = Math.min(this.delayMs * 2, BACKOFF.maxMs);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
