import { retryDelayMs } from '../../lib/backoff.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { EventBus } from '../../lib/event-bus.js';
import type { Logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import { migrate, type SqliteDb } from '../../lib/sqlite.js';
import type { GatewayEvents } from '../../pipeline/events.js';
import type { AlertEvent } from '../alert.js';
import { buildPayload, readRobotReply, signDingTalkUrl } from './formats.js';
import type { NotifierConfig } from './notifier-config.js';

/** How a notifier queues and stops (its endpoint, filters and backoff are in its {@link NotifierConfig}). */
export interface NotifierOptions {
  /** Notifications waiting per notifier; beyond it a new one is dead-lettered at once as `queue full`. Default 10_000. */
  maxQueueLength: number;
  /** `stop()` keeps delivering for at most this long, then aborts the attempt in flight and dead-letters the rest, ms. Default 10_000. */
  stopTimeoutMs: number;
  /** Longest `Retry-After` honoured, ms; a longer one is cut to this so one endpoint cannot park the queue for hours. Default 300_000. */
  maxRetryAfterMs: number;
}

export const DEFAULT_NOTIFIER_OPTIONS: Readonly<NotifierOptions> = Object.freeze({
  maxQueueLength: 10_000,
  stopTimeoutMs: 10_000,
  maxRetryAfterMs: 300_000,
});

/** Everything a Notifier needs (one typed context object). */
export interface NotifierContext {
  config: NotifierConfig;
  /** Holds `notification_dead_letters`; migrated by `start()`. */
  db: SqliteDb;
  logger?: Logger;
  metrics?: Pick<Metrics, 'notifications'>;
  options?: Partial<NotifierOptions>;
  /** Dead-letter times and DingTalk timestamps. Default: the system clock. */
  clock?: Clock;
  /** Source of jitter in [0, 1). Default: Math.random. */
  random?: () => number;
}

/** Counts since `start()`. */
export interface NotifierStats {
  /** Waiting or in flight. */
  queued: number;
  sent: number;
  /** Retries scheduled (one per failed attempt that will be tried again). */
  retried: number;
  deadLettered: number;
  /** Events not for this notifier (type, level, tenant, historical, silenced). */
  filtered: number;
}

export type NotifyOutcome = 'queued' | 'filtered' | 'dead_lettered';

/** A notification that could not be delivered, as stored and as the API returns it. */
export interface NotificationDeadLetter {
  id: number;
  notifier: string;
  alert_id: number;
  seq: number;
  /** Attempts made; 0 when it was never sent (queue full, stopped). */
  attempts: number;
  last_error: string;
  /** The request body that was (or would have been) sent. */
  payload: unknown;
  /** Gateway time, epoch ms. */
  created_at: number;
}

const MIGRATIONS = [
  `CREATE TABLE notification_dead_letters (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     notifier TEXT NOT NULL,
     alert_id INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     last_error TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX notification_dead_letters_by_time ON notification_dead_letters (created_at);`,
];

interface Delivery {
  seq: number;
  alertId: number;
  body: string;
  attempts: number;
  lastError: string;
  /** Earliest next attempt, epoch ms (0: now). */
  notBeforeMs: number;
}

type AttemptResult = { ok: true } | { ok: false; retriable: boolean; error: string; retryAfterMs?: number };

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms; undefined when absent or malformed. */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const h = header.trim();
  if (/^\d+$/.test(h)) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Sends alert events to one endpoint. One queue per notifier, one request in flight, in `seq` order: a failing
 * notification holds the queue only for its bounded retries, then goes to the dead letters (never dropped silently).
 */
export class Notifier {
  readonly name: string;
  private readonly ctx: NotifierContext;
  private readonly opts: NotifierOptions;
  private readonly clock: Clock;
  private readonly queue: Delivery[] = [];
  private readonly counts = { sent: 0, retried: 0, deadLettered: 0, filtered: 0 };
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopDeadlineMs = Number.POSITIVE_INFINITY;
  private readonly stopAbort = new AbortController();
  private inFlight: Promise<void> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(ctx: NotifierContext) {
    this.ctx = ctx;
    this.name = ctx.config.name;
    this.opts = { ...DEFAULT_NOTIFIER_OPTIONS, ...ctx.options };
    this.clock = ctx.clock ?? systemClock;
  }

  get stats(): NotifierStats {
    return { queued: this.queue.length, ...this.counts };
  }

  start(): void {
    if (this.state !== 'new') return;
    migrate(this.ctx.db, 'notifications', MIGRATIONS);
    this.state = 'running';
  }

  /** Whether this notifier sends `ev`: its type, level and tenant are configured, and the alert is neither historical nor silenced. */
  accepts(ev: AlertEvent): boolean {
    const { config } = this.ctx;
    const a = ev.alert;
    // Historical alerts come from back-dated data and silenced ones from a maintenance window: recorded, never paged.
    if (a.historical || a.silenced) return false;
    return config.events.includes(ev.type) && config.levels.includes(a.level) && (config.tenants === undefined || config.tenants.includes(a.tenant));
  }

  /** Queues `ev` if it is for this notifier; synchronous and cheap (called from the event bus). */
  notify(ev: AlertEvent): NotifyOutcome {
    if (this.state === 'new') throw new Error(`notifier ${this.name}: notify() before start()`);
    if (!this.accepts(ev)) {
      this.counts.filtered++;
      return 'filtered';
    }
    const d: Delivery = { seq: ev.seq, alertId: ev.alert_id, body: JSON.stringify(buildPayload(this.ctx.config.type, ev)), attempts: 0, lastError: '', notBeforeMs: 0 };
    const refused = this.state !== 'running' ? 'notifier stopped' : this.queue.length >= this.opts.maxQueueLength ? 'queue full' : undefined;
    if (refused !== undefined) {
      this.deadLetter([d], refused);
      return 'dead_lettered';
    }
    this.queue.push(d);
    this.pump();
    return 'queued';
  }

  /**
   * Stops accepting, keeps delivering what is queued for at most `stopTimeoutMs`, then aborts the attempt in flight
   * and dead-letters whatever is left, so the caller may close the database once it resolves.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.stopDeadlineMs = this.clock.now() + this.opts.stopTimeoutMs;
    this.clearRetryTimer();
    this.pump(); // drops a head whose backoff ends past the deadline
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, this.opts.stopTimeoutMs);
    });
    await Promise.race([this.idle(), timedOut]);
    clearTimeout(deadline);
    this.clearRetryTimer();
    // 'stopped' first, so the aborted attempt's completion starts no further one.
    this.state = 'stopped';
    this.stopAbort.abort(new Error('notifier stopped'));
    await this.inFlight;
    const left = this.queue.splice(0);
    if (left.length > 0) this.deadLetter(left, 'gateway stopped before delivery');
  }

  private idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts the head's next attempt when it is due, else arms the timer for when it will be. */
  private pump(): void {
    if ((this.state !== 'running' && this.state !== 'stopping') || this.inFlight !== undefined || this.retryTimer !== undefined) return;
    let head = this.queue[0];
    // While stopping, a retry that would come after the deadline will not happen: dead-letter it now.
    while (this.state === 'stopping' && head !== undefined && head.notBeforeMs > this.stopDeadlineMs) {
      this.deadLetter([this.queue.shift() as Delivery], `${head.lastError} (gateway stopped before the next attempt)`);
      head = this.queue[0];
    }
    if (head === undefined) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    const waitMs = head.notBeforeMs - this.clock.now();
    if (waitMs > 0) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, waitMs);
      return;
    }
    this.inFlight = this.attempt(head).finally(() => {
      this.inFlight = undefined;
      this.pump();
    });
  }

  private async attempt(d: Delivery): Promise<void> {
    d.attempts++;
    const result = await this.send(d);
    if (result.ok) {
      this.queue.shift();
      this.counts.sent++;
      this.ctx.metrics?.notifications.inc({ notifier: this.name, outcome: 'sent' });
      this.ctx.logger?.debug({ notifier: this.name, seq: d.seq, alertId: d.alertId, attempts: d.attempts }, 'notification sent');
      return;
    }
    d.lastError = result.error;
    const { retry } = this.ctx.config;
    if (!result.retriable || d.attempts >= retry.maxAttempts || this.stopAbort.signal.aborted) {
      this.queue.shift();
      this.deadLetter([d], result.error);
      return;
    }
    const delayMs = result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, this.opts.maxRetryAfterMs) : retryDelayMs(d.attempts, retry, this.ctx.random);
    d.notBeforeMs = this.clock.now() + delayMs;
    this.counts.retried++;
    this.ctx.metrics?.notifications.inc({ notifier: this.name, outcome: 'retried' });
    this.ctx.logger?.warn({ notifier: this.name, seq: d.seq, alertId: d.alertId, attempt: d.attempts, delayMs, err: result.error }, 'notification failed, will retry');
  }

  /** One POST; never throws: every failure is an outcome, retriable or not. */
  private async send(d: Delivery): Promise<AttemptResult> {
    const { config } = this.ctx;
    const url = config.type === 'dingtalk' && config.secret !== undefined ? signDingTalkUrl(config.url, config.secret, this.clock.now()) : config.url;
    const signal = AbortSignal.any([this.stopAbort.signal, AbortSignal.timeout(config.timeoutMs)]);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'x-riskgate-seq': String(d.seq), ...config.headers },
        body: d.body,
        signal,
        // A POST redirected becomes a GET without its body: report the redirect instead of losing the alert.
        redirect: 'manual',
      });
      const text = await res.text();
      return this.classify(res.status, res.headers.get('retry-after'), text);
    } catch (err) {
      if (this.stopAbort.signal.aborted) return { ok: false, retriable: false, error: 'aborted: gateway stopped' };
      if ((err as Error).name === 'TimeoutError') return { ok: false, retriable: true, error: `timeout after ${config.timeoutMs} ms` };
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (err as Error).message;
      return { ok: false, retriable: true, error: `network error: ${detail}` };
    }
  }

  private classify(status: number, retryAfter: string | null, body: string): AttemptResult {
    const { type } = this.ctx.config;
    if (status >= 200 && status < 300) {
      if (type === 'webhook') return { ok: true };
      const reply = readRobotReply(type, body);
      return reply.ok ? reply : { ok: false, retriable: !reply.permanent, error: reply.error };
    }
    const error = `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfterMs(retryAfter, this.clock.now());
      return { ok: false, retriable: true, error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    // Any other 4xx (and 3xx) says the request itself is wrong: the same request will fail the same way.
    return { ok: false, retriable: false, error };
  }

  private deadLetter(items: Delivery[], reason: string): void {
    const now = this.clock.now();
    try {
      const insert = this.ctx.db.prepare(
        'INSERT INTO notification_dead_letters (notifier, alert_id, seq, attempts, last_error, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      this.ctx.db.transaction(() => {
        for (const d of items) insert.run(this.name, d.alertId, d.seq, d.attempts, reason, d.body, now);
      })();
    } catch (err) {
      // The database is gone (disk full, closed): the log line is then the only record.
      this.ctx.logger?.error({ notifier: this.name, err, count: items.length }, 'could not store notification dead letters');
    }
    this.counts.deadLettered += items.length;
    this.ctx.metrics?.notifications.inc({ notifier: this.name, outcome: 'dead_lettered' }, items.length);
    for (const d of items) {
      this.ctx.logger?.error({ notifier: this.name, seq: d.seq, alertId: d.alertId, attempts: d.attempts, reason }, 'notification dead-lettered');
    }
  }

  private clearRetryTimer(): void {
    if (this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/** Everything the NotificationService needs (one typed context object). */
export interface NotificationServiceContext extends Omit<NotifierContext, 'config'> {
  /** From `loadNotifierConfig(NOTIFIERS_FILE)`. */
  notifiers: NotifierConfig[];
  bus: EventBus<GatewayEvents>;
}

/** Builds the configured notifiers and feeds them every `alertEvent` of the bus. */
export class NotificationService {
  private readonly ctx: NotificationServiceContext;
  private list: Notifier[] = [];

  constructor(ctx: NotificationServiceContext) {
    this.ctx = ctx;
  }

  get notifiers(): readonly Notifier[] {
    return this.list;
  }

  start(): void {
    const { notifiers, bus, ...shared } = this.ctx;
    migrate(this.ctx.db, 'notifications', MIGRATIONS);
    this.list = notifiers.map((config) => new Notifier({ ...shared, config }));
    for (const n of this.list) n.start();
    bus.on('alertEvent', this, (ev) => {
      for (const n of this.list) n.notify(ev);
    });
  }

  /** Unsubscribes, then stops every notifier (each bounded by `stopTimeoutMs`). */
  async stop(): Promise<void> {
    this.ctx.bus.removeOwner(this);
    await Promise.all(this.list.map((n) => n.stop()));
  }

  /** The latest dead letters, newest first (for the API). Valid after `start()`. */
  deadLetters(limit = 100): NotificationDeadLetter[] {
    const rows = this.ctx.db
      .prepare('SELECT * FROM notification_dead_letters ORDER BY id DESC LIMIT ?')
      .all(Math.max(0, Math.floor(limit))) as (Omit<NotificationDeadLetter, 'payload'> & { payload: string })[];
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as unknown }));
  }

  /** Dead letters stored, all notifiers (for a gauge). */
  deadLetterCount(): number {
    return (this.ctx.db.prepare('SELECT COUNT(*) AS n FROM notification_dead_letters').get() as { n: number }).n;
  }

  /** Counts per notifier name. */
  stats(): Record<string, NotifierStats> {
    return Object.fromEntries(this.list.map((n) => [n.name, n.stats]));
  }
}
