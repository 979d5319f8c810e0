import { retryDelayMs, type RetryOptions } from '../lib/backoff.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Point, PointWriter } from './point.js';

// Moved to lib/backoff.ts (shared with the notifiers); re-exported for existing importers.
export { retryDelayMs, type RetryOptions };

/** How the batcher groups points and retries. */
export interface WriteBatcherOptions {
  /** A batch is written as soon as it holds this many points; also the largest batch handed to the writer. Default 5000. */
  maxBatchPoints: number;
  /** A partial batch is written this long after its first point was enqueued, ms. Default 1000. */
  flushIntervalMs: number;
  /** Above this many pending points `isBackedUp` turns true and the caller applies backpressure (nothing is dropped). Default 200_000. */
  maxPendingPoints: number;
  /** Backoff of a failed batch. Default 200 ms initial, 10 s max, factor 2, jitter 0.2. */
  retry: RetryOptions;
  /** `stop()` waits at most this long for pending points to be written, ms. Default 10_000. */
  stopTimeoutMs: number;
}

export const DEFAULT_BATCHER_OPTIONS: Readonly<WriteBatcherOptions> = Object.freeze({
  maxBatchPoints: 5000,
  flushIntervalMs: 1000,
  maxPendingPoints: 200_000,
  retry: Object.freeze({ initialDelayMs: 200, maxDelayMs: 10_000, factor: 2, jitter: 0.2 }),
  stopTimeoutMs: 10_000,
});

/** Callbacks for metrics and logs; the batcher itself knows neither prom-client nor pino. */
export interface WriteBatcherHooks {
  /** A batch of `points` points was acknowledged by the writer after `durationMs` ms. */
  batchWritten?(points: number, durationMs: number): void;
  /** A batch of `points` points failed for the `attempt`-th time (1-based); it stays at the head and is retried. */
  batchFailed?(points: number, error: unknown, attempt: number): void;
}

/** Everything a WriteBatcher needs (one typed context object). */
export interface WriteBatcherContext {
  writer: PointWriter;
  options?: Partial<Omit<WriteBatcherOptions, 'retry'>> & { retry?: Partial<RetryOptions> };
  hooks?: WriteBatcherHooks;
  /** Default: the system clock. Fake timers (vitest) fake it too. */
  clock?: Clock;
  /** Source of jitter in [0, 1). Default: Math.random. */
  random?: () => number;
}

interface Batch {
  points: Point[];
  /** When its first point was enqueued, epoch ms. */
  openedAtMs: number;
  /** Once handed to the writer a batch is never appended to, so a retry sends exactly what failed. */
  sealed: boolean;
  failures: number;
  /** Earliest next attempt after a failure, epoch ms. */
  retryAtMs: number;
}

interface FlushWaiter {
  /** Resolve once `writtenTotal` reaches this. */
  target: number;
  resolve(): void;
}

/**
 * Groups points into batches and writes them through one PointWriter: one write in flight at a time,
 * a failed batch stays at the head and is retried with backoff, so order is kept and nothing is dropped.
 * Modelled on influxdb-client-js WriteApiImpl/RetryBuffer, minus its drop-oldest buffer: when the store
 * is away points accumulate and `isBackedUp` tells the caller to push back (a disk spool comes later).
 */
export class WriteBatcher {
  private readonly writer: PointWriter;
  private readonly opts: WriteBatcherOptions;
  private readonly hooks: WriteBatcherHooks;
  private readonly clock: Clock;
  private readonly random: () => number;

  private readonly batches: Batch[] = [];
  private pending = 0;
  private enqueuedTotal = 0;
  private writtenTotal = 0;
  /** While `writtenTotal` is below this, partial batches are written without waiting for the interval. */
  private drainTarget = 0;
  private waiters: FlushWaiter[] = [];
  private writing = false;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;

  constructor(ctx: WriteBatcherContext) {
    this.writer = ctx.writer;
    const { retry, ...rest } = ctx.options ?? {};
    this.opts = { ...DEFAULT_BATCHER_OPTIONS, ...rest, retry: { ...DEFAULT_BATCHER_OPTIONS.retry, ...retry } };
    this.hooks = ctx.hooks ?? {};
    this.clock = ctx.clock ?? systemClock;
    this.random = ctx.random ?? Math.random;
  }

  /** Points enqueued and not yet acknowledged by the writer (including the batch in flight). */
  get pendingPoints(): number {
    return this.pending;
  }

  /** True when more than `maxPendingPoints` are pending: the caller should apply backpressure. */
  get isBackedUp(): boolean {
    return this.pending > this.opts.maxPendingPoints;
  }

  start(): void {
    this.running = true;
    this.pump();
  }

  /** Writes what is pending (at most `stopTimeoutMs`), then stops the timers. Points still pending stay counted in `pendingPoints`. */
  async stop(): Promise<void> {
    if (!this.running) return;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, this.opts.stopTimeoutMs);
    });
    try {
      await Promise.race([this.flush(), timedOut]);
    } finally {
      clearTimeout(timeout);
      this.running = false;
      this.clearTimer();
    }
  }

  /** Synchronous and cheap: appends to the open batch; never drops. */
  enqueue(point: Point): void {
    let open = this.batches[this.batches.length - 1];
    if (open === undefined || open.sealed || open.points.length >= this.opts.maxBatchPoints) {
      open = { points: [], openedAtMs: this.clock.now(), sealed: false, failures: 0, retryAtMs: 0 };
      this.batches.push(open);
    }
    open.points.push(point);
    this.pending++;
    this.enqueuedTotal++;
    // Size trigger, or the first point of the head batch (arms the interval timer); otherwise no work per point.
    if (open.points.length >= this.opts.maxBatchPoints || (open.points.length === 1 && this.batches.length === 1)) this.pump();
  }

  /** Resolves once every point enqueued before the call is written; waits through retries, never rejects. */
  flush(): Promise<void> {
    const target = this.enqueuedTotal;
    if (this.writtenTotal >= target) return Promise.resolve();
    this.drainTarget = Math.max(this.drainTarget, target);
    return new Promise<void>((resolve) => {
      this.waiters.push({ target, resolve });
      this.pump();
    });
  }

  /** Writes the head batch when it is due, else arms the timer for when it will be. */
  private pump(): void {
    if (!this.running || this.writing) return;
    const head = this.batches[0];
    if (head === undefined) return;
    const now = this.clock.now();
    let dueAtMs: number;
    if (head.failures > 0) dueAtMs = head.retryAtMs;
    else if (head.points.length >= this.opts.maxBatchPoints || this.writtenTotal < this.drainTarget) dueAtMs = now;
    else dueAtMs = head.openedAtMs + this.opts.flushIntervalMs;
    if (dueAtMs > now) {
      this.armTimer(dueAtMs, now);
      return;
    }
    this.clearTimer();
    this.writeHead(head);
  }

  private writeHead(head: Batch): void {
    head.sealed = true;
    this.writing = true;
    const startedMs = this.clock.now();
    let result: Promise<void>;
    try {
      result = this.writer.write(head.points);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => this.onWritten(head, startedMs),
      (err: unknown) => this.onFailed(head, err),
    );
  }

  private onWritten(head: Batch, startedMs: number): void {
    this.batches.shift();
    this.writing = false;
    const n = head.points.length;
    this.pending -= n;
    this.writtenTotal += n;
    this.callHook(() => this.hooks.batchWritten?.(n, this.clock.now() - startedMs));
    if (this.waiters.length > 0) this.resolveWaiters();
    this.pump();
  }

  private onFailed(head: Batch, err: unknown): void {
    this.writing = false;
    head.failures++;
    head.retryAtMs = this.clock.now() + retryDelayMs(head.failures, this.opts.retry, this.random);
    this.callHook(() => this.hooks.batchFailed?.(head.points.length, err, head.failures));
    this.pump();
  }

  private resolveWaiters(): void {
    const still: FlushWaiter[] = [];
    for (const w of this.waiters) {
      if (this.writtenTotal >= w.target) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private armTimer(atMs: number, now: number): void {
    if (this.timer !== undefined && this.timerAtMs <= atMs) return;
    this.clearTimer();
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      this.pump();
    }, atMs - now);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Number.POSITIVE_INFINITY;
  }

  private callHook(fn: () => void): void {
    try {
      fn();
    } catch {
      // A throwing metrics/log hook must not stall the queue; the hook owner sees its own bug elsewhere.
    }
  }
}
