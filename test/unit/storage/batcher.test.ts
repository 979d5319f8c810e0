import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DEFAULT_BATCHER_OPTIONS, retryDelayMs, WriteBatcher, type WriteBatcherContext } from '../../../src/storage/batcher.js';
import type { Point } from '../../../src/storage/point.js';
import { EncodingFakeWriter, FakeWriter } from '../../helpers/fake-writer.js';

function point(i: number): Point {
  return { measurement: 'gas', tags: { tenant: 't1', device: `d${i % 3}` }, fields: { concentration_lel: i }, timeMs: 1_700_000_000_000 + i };
}

function batcher(writer: FakeWriter, ctx: Partial<WriteBatcherContext> = {}): WriteBatcher {
  // random 0.5 = no jitter, so delays are exact.
  const b = new WriteBatcher({ writer, random: () => 0.5, ...ctx });
  b.start();
  return b;
}

/** Advances fake time until `p` settles (flush waits for backoff and write latency timers). */
async function settle(p: Promise<void>): Promise<void> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  for (let i = 0; i < 10_000 && !done; i++) await vi.advanceTimersByTimeAsync(10);
  expect(done).toBe(true);
}

// Every case twice: a writer of point objects, and one that encodes each record when it is sealed (issue 9).
describe.each([
  ['points', FakeWriter],
  ['encoded at seal', EncodingFakeWriter],
] as const)('storage/batcher (%s)', (_mode, Writer) => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2025, 2, 15, 6, 0, 0) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('defaults match the documented values', () => {
    expect(DEFAULT_BATCHER_OPTIONS).toEqual({
      maxBatchPoints: 5000,
      flushIntervalMs: 1000,
      maxPendingPoints: 200_000,
      retry: { initialDelayMs: 200, maxDelayMs: 10_000, factor: 2, jitter: 0.2 },
      stopTimeoutMs: 10_000,
    });
  });

  test('a full batch is written at once, without waiting for the interval', async () => {
    const w = new Writer();
    const b = batcher(w, { options: { maxBatchPoints: 3 } });
    for (let i = 0; i < 7; i++) b.enqueue(point(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.batches.map((x) => x.length)).toEqual([3, 3]);
    expect(b.pendingPoints).toBe(1);
  });

  test('a partial batch is written flushIntervalMs after its first point', async () => {
    const w = new Writer();
    const b = batcher(w, { options: { flushIntervalMs: 1000 } });
    b.enqueue(point(0));
    await vi.advanceTimersByTimeAsync(600);
    b.enqueue(point(1));
    await vi.advanceTimersByTimeAsync(399);
    expect(w.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.batches).toEqual([[point(0), point(1)]]);
    expect(b.pendingPoints).toBe(0);
  });

  test('order is kept across a failing-then-succeeding writer and nothing is dropped', async () => {
    const w = new Writer();
    const failed: number[] = [];
    const b = batcher(w, {
      options: { maxBatchPoints: 4, flushIntervalMs: 50 },
      hooks: { batchFailed: (_n, _err, attempt) => failed.push(attempt) },
    });
    w.failuresLeft = 3;
    for (let i = 0; i < 10; i++) b.enqueue(point(i));
    for (let i = 10; i < 23; i++) {
      await vi.advanceTimersByTimeAsync(37);
      b.enqueue(point(i));
    }
    await settle(b.flush());
    expect(failed).toEqual([1, 2, 3]);
    expect(w.written).toEqual(Array.from({ length: 23 }, (_, i) => point(i)));
    expect(w.batches.every((x) => x.length <= 4)).toBe(true);
    expect(w.maxInFlight).toBe(1);
    expect(b.pendingPoints).toBe(0);
  });

  test('the retry delay grows exponentially up to maxDelayMs', async () => {
    const w = new Writer();
    w.down = true;
    const b = batcher(w, { options: { retry: { initialDelayMs: 100, factor: 2, maxDelayMs: 1000 } } });
    b.enqueue(point(0));
    await vi.advanceTimersByTimeAsync(20_000);
    const gaps = w.attemptsAtMs.slice(1).map((t, i) => t - (w.attemptsAtMs[i] as number));
    expect(gaps.slice(0, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
    w.down = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(w.written).toEqual([point(0)]);
  });

  test('jitter spreads a delay by at most ±jitter and never beyond maxDelayMs', () => {
    const retry = { initialDelayMs: 200, maxDelayMs: 10_000, factor: 2, jitter: 0.2 };
    expect(retryDelayMs(1, retry, () => 0)).toBe(160);
    expect(retryDelayMs(1, retry, () => 0.999_999)).toBe(240);
    expect(retryDelayMs(3, retry, () => 0.5)).toBe(800);
    expect(retryDelayMs(30, retry, () => 0.999_999)).toBe(10_000);
  });

  test('while the store is down points accumulate, isBackedUp turns true, and all are written later', async () => {
    const w = new Writer();
    w.down = true;
    const b = batcher(w, { options: { maxBatchPoints: 100, maxPendingPoints: 1000 } });
    for (let i = 0; i < 1001; i++) b.enqueue(point(i));
    await vi.advanceTimersByTimeAsync(5000);
    expect(b.pendingPoints).toBe(1001);
    expect(b.isBackedUp).toBe(true);
    w.down = false;
    await settle(b.flush());
    expect(b.isBackedUp).toBe(false);
    expect(w.written).toEqual(Array.from({ length: 1001 }, (_, i) => point(i)));
  });

  test('a failed batch is retried unchanged while later points form new batches', async () => {
    const w = new Writer();
    w.failuresLeft = 1;
    const b = batcher(w, { options: { maxBatchPoints: 5 } });
    b.enqueue(point(0));
    b.enqueue(point(1));
    await vi.advanceTimersByTimeAsync(1000);
    b.enqueue(point(2));
    await settle(b.flush());
    expect(w.batches).toEqual([[point(0), point(1)], [point(2)]]);
  });

  test('only one write is in flight at a time', async () => {
    const w = new Writer();
    w.latencyMs = 300;
    const b = batcher(w, { options: { maxBatchPoints: 2 } });
    for (let i = 0; i < 9; i++) b.enqueue(point(i));
    await settle(b.flush());
    expect(w.maxInFlight).toBe(1);
    expect(w.written).toHaveLength(9);
  });

  test('stop writes everything pending without waiting for the interval', async () => {
    const w = new Writer();
    const b = batcher(w, { options: { flushIntervalMs: 60_000 } });
    for (let i = 0; i < 5; i++) b.enqueue(point(i));
    const t0 = Date.now();
    await b.stop();
    expect(Date.now()).toBe(t0);
    expect(w.written).toEqual(Array.from({ length: 5 }, (_, i) => point(i)));
  });

  test('stop gives up after stopTimeoutMs and keeps the rest counted as pending', async () => {
    const w = new Writer();
    w.down = true;
    const b = batcher(w, { options: { stopTimeoutMs: 2000 } });
    b.enqueue(point(0));
    const stopped = b.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await stopped;
    expect(b.pendingPoints).toBe(1);
    const attempts = w.attemptsAtMs.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(w.attemptsAtMs).toHaveLength(attempts);
  });

  test('batchWritten reports size and duration; a throwing hook does not stall the queue', async () => {
    const w = new Writer();
    w.latencyMs = 25;
    const seen: [number, number][] = [];
    const b = batcher(w, {
      options: { maxBatchPoints: 2 },
      hooks: {
        batchWritten: (n, ms) => {
          seen.push([n, ms]);
          throw new Error('metrics exploded');
        },
      },
    });
    for (let i = 0; i < 4; i++) b.enqueue(point(i));
    await settle(b.flush());
    expect(seen).toEqual([
      [2, 25],
      [2, 25],
    ]);
  });
});
