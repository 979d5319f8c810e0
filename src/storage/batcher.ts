import { retryDelayMs, type RetryOptions } from '../lib/backoff.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Point, PointWriter } from './point.js';
import type { Spool, SpoolPosition, SpoolRecovery } from './spool.js';

// Moved to lib/backoff.ts (shared with the notifiers); re-exported for existing importers.
export { retryDelayMs, type RetryOptions };

/** How the batcher groups points and retries. */
export interface WriteBatcherOptions {
  /** A batch is written as soon as it holds this many points; also the largest batch handed to the writer. Default 5000. */
  maxBatchPoints: number;
  /** A partial batch is written this long after its first point was enqueued, ms. Default 1000. */
  flushIntervalMs: number;
  /**
   * Most points held in memory. With a spool, points past this stay on disk only and are read back when the store
   * catches up; without one, `isBackedUp` turns true and the caller applies backpressure. Nothing is dropped. Default 200_000.
   */
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
  /** `points` points were read back from the spool because memory no longer held them. */
  spoolRead?(points: number): void;
  /** Appending to the spool failed (disk full or failing); the record is kept in memory. */
  spoolFailed?(error: unknown): void;
  /** The writer switched between reading from memory and reading back from the spool. */
  modeChanged?(mode: 'memory' | 'spool'): void;
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
  /** The write-ahead spool (opened by the batcher's `start()`). Without one, points live in memory only. */
  spool?: Spool;
}

/** A sealed group of points: one ingest message's worth (at most `maxBatchPoints`). */
interface PendingRecord {
  /** Its points, or (a writer with `encode`) undefined and `chunk` holds them in the writer's wire form. */
  points: Point[] | undefined;
  chunk?: string;
  /** How many points it holds. */
  count: number;
  /** When it was sealed (gateway time), epoch ms. */
  atMs: number;
  /** Spool sequence number and position (0 / undefined without a spool). */
  seq: number;
  pos?: SpoolPosition;
  /** Where the spool record after it starts. */
  end?: SpoolPosition;
}

interface Batch {
  /** Its points, or (records encoded at seal) undefined and `chunks` holds them. */
  points: Point[] | undefined;
  chunks?: string[];
  /** How many points it holds. */
  count: number;
  /** Spool sequence number of its last record (0 without a spool). */
  lastSeq: number;
  /** Where the spool record after its last one starts (for the spool's backlog size). */
  lastEnd?: SpoolPosition;
  /** Records in it whose spool append failed (they count in `unspooled` until the batch is written). */
  unspooled: number;
  /** Gateway time of its first record, epoch ms. */
  firstAtMs: number;
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
 * Groups points into batches and writes them through one PointWriter: one write in flight at a time, a failed batch
 * is retried unchanged with backoff, so order is kept and nothing is dropped. Modelled on influxdb-client-js
 * WriteApiImpl/RetryBuffer, minus its drop-oldest buffer.
 *
 * With a spool, every record (the points of one message, sealed by `seal()`) is appended to it before `seal()`
 * returns: the ingest acknowledges a message only after that, so a crash loses nothing acknowledged. While the store
 * keeps up, batches are cut from memory; once more than `maxPendingPoints` wait, memory lets go of them and the
 * batcher reads them back from the spool in order ("spool mode") until it has caught up with the appends.
 */
export class WriteBatcher {
  private readonly writer: PointWriter;
  private readonly opts: WriteBatcherOptions;
  private readonly hooks: WriteBatcherHooks;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly spool: Spool | undefined;
  /** The writer's `encode`, when it has both `encode` and `writeEncoded`. */
  private readonly encode: ((points: readonly Point[]) => string) | undefined;

  /** Points enqueued since the last seal. */
  private open: Point[] = [];
  private sealScheduled = false;
  /** A group commit is open ({@link holdSeal}): the open record waits for its `seal()` instead of the end of the tick. */
  private sealHeld = false;
  /** Seals at the end of the current tick, for points enqueued without a `seal()` (one function, not one per point). */
  private readonly sealSoon = (): void => this.seal();
  /** Sealed records held in memory, oldest first (memory mode only; empty in spool mode). */
  private records: PendingRecord[] = [];
  private memPoints = 0;
  /**
   * Records whose spool append failed and that are not yet written (held in memory or in the batch in flight): only
   * the process holds them, so they keep `isBackedUp` true and the batcher in memory mode until written.
   */
  private unspooled = 0;
  /** Spool mode: the next record to read back. */
  private cursor: SpoolPosition | undefined;
  private inflight: Batch | undefined;
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
  /** Gateway time of the oldest point not yet written (NaN when none is known). */
  private oldestAtMs = Number.NaN;
  /** What the spool held on open. */
  recovery: SpoolRecovery | undefined;

  constructor(ctx: WriteBatcherContext) {
    this.writer = ctx.writer;
    const { retry, ...rest } = ctx.options ?? {};
    this.opts = { ...DEFAULT_BATCHER_OPTIONS, ...rest, retry: { ...DEFAULT_BATCHER_OPTIONS.retry, ...retry } };
    this.hooks = ctx.hooks ?? {};
    this.clock = ctx.clock ?? systemClock;
    this.random = ctx.random ?? Math.random;
    this.spool = ctx.spool;
    const w = ctx.writer;
    this.encode = w.encode !== undefined && w.writeEncoded !== undefined ? (points) => (w.encode as (p: readonly Point[]) => string).call(w, points) : undefined;
  }

  /** Points enqueued and not yet acknowledged by the writer (including the batch in flight and the spool backlog). */
  get pendingPoints(): number {
    return this.pending;
  }

  /**
   * True when the caller should stop taking input: without a spool, more than `maxPendingPoints` wait in memory;
   * with one, the spool is full. Nothing is dropped either way.
   */
  get isBackedUp(): boolean {
    return this.spool ? this.spool.isFull || this.unspooled > 0 : this.pending > this.opts.maxPendingPoints;
  }

  /** `memory` while batches are cut from memory, `spool` while the backlog is read back from disk. */
  get mode(): 'memory' | 'spool' {
    return this.cursor === undefined ? 'memory' : 'spool';
  }

  /** How long the oldest unwritten point has waited, ms (0 when none waits). */
  get lagMs(): number {
    if (this.pending === 0 || Number.isNaN(this.oldestAtMs)) return 0;
    return Math.max(0, this.clock.now() - this.oldestAtMs);
  }

  /** Opens the spool (replaying what it holds after the last checkpoint) and starts writing. */
  start(): void {
    if (this.spool) {
      const rec = this.spool.open();
      this.recovery = rec;
      if (rec.from !== undefined && rec.points > 0) {
        this.cursor = rec.from;
        this.pending += rec.points;
        this.enqueuedTotal += rec.points;
        this.callHook(() => this.hooks.modeChanged?.('spool')); // a throwing hook must not fail start()
      }
    }
    this.running = true;
    this.pump();
  }

  /** Writes what is pending (at most `stopTimeoutMs`), then stops the timers and closes the spool. What is left stays in the spool. */
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
      this.spool?.close();
    }
  }

  /**
   * Until the next `seal()`, points enqueued stay in the open record past the end of the tick: the caller (a group
   * commit, src/ingest/mqtt/mqtt-ingest.ts) seals them itself, before it acknowledges them. Still sealed at
   * `maxBatchPoints`.
   */
  holdSeal(): void {
    this.sealHeld = true;
  }

  /** Synchronous and cheap: adds to the open record; `seal()` (or the end of the current tick) closes it. Never drops. */
  enqueue(point: Point): void {
    this.open.push(point);
    this.pending++;
    this.enqueuedTotal++;
    if (this.open.length >= this.opts.maxBatchPoints) this.seal();
    else if (!this.sealScheduled && !this.sealHeld) {
      this.sealScheduled = true;
      queueMicrotask(this.sealSoon);
    }
  }

  /**
   * Closes the open record: appends it to the spool (synchronously: it survives a crash of this process once this
   * returns) and queues it for the store. The pipeline calls it at the end of each message, before the ack.
   */
  seal(): void {
    this.sealScheduled = false;
    this.sealHeld = false;
    if (this.open.length === 0) return;
    const points = this.open;
    this.open = [];
    const now = this.clock.now();
    let seq = 0;
    let pos: SpoolPosition | undefined;
    let end: SpoolPosition | undefined;
    if (this.spool) {
      try {
        ({ seq, pos, end } = this.spool.append(now, points));
      } catch (err) {
        // Disk full or failing: the record stays in memory only (written to the store in its turn, lost only if the
        // process dies first) and `isBackedUp` holds the ingest until it is written.
        this.unspooled++;
        this.callHook(() => this.hooks.spoolFailed?.(err));
      }
    }
    if (this.pending === points.length) this.oldestAtMs = now;
    if (this.cursor !== undefined && pos !== undefined) {
      // Spool mode: the record is read back from disk in its turn.
      if (this.records.length === 0 && !this.writing) this.pump();
      return;
    }
    // A writer that can encode gets the record's points in its wire form now (issue 9): the record then holds one
    // flat string until the batch is written, instead of the point objects — which lived a second or more, long
    // enough for the garbage collector to copy them twice and promote them. Same bytes, built earlier.
    if (this.encode !== undefined) this.records.push({ points: undefined, chunk: this.encode(points), count: points.length, atMs: now, seq, pos, end });
    else this.records.push({ points, count: points.length, atMs: now, seq, pos, end });
    // Counted in either mode: cutFromMemory() takes every record's points off again (an unspooled record sealed while
    // reading back used to be left out here, driving memPoints below zero and delaying the next switch to spool mode).
    this.memPoints += points.length;
    if (this.cursor !== undefined) return this.pump(); // an unspooled record while reading back: written from memory
    if (this.spool && this.memPoints > this.opts.maxPendingPoints && this.unspooled === 0) {
      // Memory lets go: from the oldest record not in flight on, the spool is read back instead.
      this.cursor = (this.records[0] as PendingRecord).pos;
      this.records = [];
      this.memPoints = 0;
      this.callHook(() => this.hooks.modeChanged?.('spool'));
    }
    // Size trigger, or the first record (arms the interval timer); otherwise no work per record.
    if (this.memPoints >= this.opts.maxBatchPoints || this.records.length === 1) this.pump();
  }

  /** Resolves once every point enqueued before the call is written; waits through retries, never rejects. */
  flush(): Promise<void> {
    this.seal();
    const target = this.enqueuedTotal;
    if (this.writtenTotal >= target) return Promise.resolve();
    this.drainTarget = Math.max(this.drainTarget, target);
    return new Promise<void>((resolve) => {
      this.waiters.push({ target, resolve });
      this.pump();
    });
  }

  /** Writes the next batch when it is due, else arms the timer for when it will be. */
  private pump(): void {
    if (!this.running || this.writing) return;
    const now = this.clock.now();
    if (this.inflight !== undefined) {
      // A failed batch waits for its retry time.
      if (this.inflight.retryAtMs > now) return this.armTimer(this.inflight.retryAtMs, now);
      this.clearTimer();
      return this.write(this.inflight);
    }
    let batch: Batch | undefined;
    if (this.cursor !== undefined && this.records.length === 0) {
      batch = this.readBack();
    } else {
      const head = this.records[0];
      if (head === undefined) return;
      const due = this.memPoints >= this.opts.maxBatchPoints || this.writtenTotal < this.drainTarget ? now : head.atMs + this.opts.flushIntervalMs;
      if (due > now) return this.armTimer(due, now);
      batch = this.cutFromMemory();
    }
    if (batch === undefined) return;
    this.clearTimer();
    this.inflight = batch;
    this.write(batch);
  }

  private cutFromMemory(): Batch {
    const head = this.records[0] as PendingRecord;
    const points: Point[] = [];
    const chunks: string[] = [];
    let count = 0;
    let lastSeq = 0;
    let lastEnd: SpoolPosition | undefined;
    let unspooled = 0;
    while (this.records.length > 0) {
      const r = this.records[0] as PendingRecord;
      if (count > 0 && count + r.count > this.opts.maxBatchPoints) break;
      this.records.shift();
      count += r.count;
      if (r.points === undefined) chunks.push(r.chunk as string);
      else for (const p of r.points) points.push(p);
      if (r.seq > 0) {
        lastSeq = r.seq;
        lastEnd = r.end;
      } else if (this.spool) unspooled++;
    }
    this.memPoints -= count;
    // `unspooled` drops only once the batch is written (onWritten): while it is in flight or retried, a crash still
    // loses it, so `isBackedUp` must stay true (it used to turn false as soon as the batch was cut).
    // The records are all encoded (the writer encodes) or none are.
    const encoded = this.encode !== undefined;
    return { points: encoded ? undefined : points, chunks: encoded ? chunks : undefined, count, lastSeq, lastEnd, unspooled, firstAtMs: head.atMs, failures: 0, retryAtMs: 0 };
  }

  /** Spool mode: the next batch from disk; back to memory mode once the reads reach the appends. */
  private readBack(): Batch | undefined {
    const spool = this.spool as Spool;
    const { records, next } = spool.read(this.cursor as SpoolPosition, this.opts.maxBatchPoints);
    const tail = spool.tail;
    if (next.segment === tail.segment && next.offset === tail.offset) {
      this.cursor = undefined;
      this.callHook(() => this.hooks.modeChanged?.('memory'));
    } else {
      this.cursor = next;
    }
    if (records.length === 0) return undefined;
    const points: Point[] = [];
    for (const r of records) for (const p of r.points) points.push(p);
    this.callHook(() => this.hooks.spoolRead?.(points.length));
    const first = records[0] as { atMs: number };
    this.oldestAtMs = first.atMs;
    return { points, count: points.length, lastSeq: (records[records.length - 1] as { seq: number }).seq, lastEnd: next, unspooled: 0, firstAtMs: first.atMs, failures: 0, retryAtMs: 0 };
  }

  private write(batch: Batch): void {
    this.writing = true;
    const startedMs = this.clock.now();
    let result: Promise<void>;
    try {
      const w = this.writer;
      result = batch.points === undefined ? (w.writeEncoded as (chunks: readonly string[]) => Promise<void>).call(w, batch.chunks as string[]) : w.write(batch.points);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => this.onWritten(batch, startedMs),
      (err: unknown) => this.onFailed(batch, err),
    );
  }

  private onWritten(batch: Batch, startedMs: number): void {
    this.inflight = undefined;
    this.writing = false;
    const n = batch.count;
    this.pending -= n;
    this.writtenTotal += n;
    this.unspooled -= batch.unspooled;
    if (this.spool && batch.lastSeq > 0) this.spool.commit(batch.lastSeq, batch.lastEnd);
    this.oldestAtMs = this.records[0]?.atMs ?? Number.NaN;
    this.callHook(() => this.hooks.batchWritten?.(n, this.clock.now() - startedMs));
    if (this.waiters.length > 0) this.resolveWaiters();
    this.pump();
  }

  private onFailed(batch: Batch, err: unknown): void {
    this.writing = false;
    batch.failures++;
    batch.retryAtMs = this.clock.now() + retryDelayMs(batch.failures, this.opts.retry, this.random);
    this.callHook(() => this.hooks.batchFailed?.(batch.count, err, batch.failures));
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
