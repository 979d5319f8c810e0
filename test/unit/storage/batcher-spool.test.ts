import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { WriteBatcher, type WriteBatcherContext, type WriteBatcherHooks } from '../../../src/storage/batcher.js';
import type { Point } from '../../../src/storage/point.js';
import { EncodingFakeWriter, FakeWriter } from '../../helpers/fake-writer.js';
import { encodeRecord, Spool, type SpoolOptions } from '../../../src/storage/spool.js';

const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

function point(i: number): Point {
  return { measurement: 'gas', tags: { tenant: 't1', device: `d${i % 3}` }, fields: { concentration_lel: 1_000_000 + i }, timeMs: 1_700_000_000_000 + i };
}

function points(from: number, to: number): Point[] {
  return Array.from({ length: to - from }, (_, k) => point(from + k));
}

const key = (p: Point): string => JSON.stringify(p);

/** Bytes of a spool record holding one `point(i)` (the same for every i used here). */
const REC1 = encodeRecord({ seq: 1, atMs: T0, points: [point(0)] }).length;

/** The batcher's memory-side state (private): what "memory lets go" is about. */
function memory(b: WriteBatcher): { records: number; memPoints: number } {
  const x = b as unknown as { records: unknown[]; memPoints: number };
  return { records: x.records.length, memPoints: x.memPoints };
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

function segFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.seg'));
}

/** Fake timers from T0 and a fresh temp dir for each test (handed to `use`), both undone after it. */
function withFakeTimersAndDir(use: (dir: string) => void): void {
  let dir = '';
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    dir = mkdtempSync(join(tmpdir(), 'riskgate-batcher-spool-'));
    use(dir);
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });
}

// Every case twice: a writer of point objects, and one that encodes each record when it is sealed (issue 9).
describe.each([
  ['points', FakeWriter],
  ['encoded at seal', EncodingFakeWriter],
] as const)('storage/batcher with a spool (%s)', (_mode, Writer) => {
  let dir: string;
  withFakeTimersAndDir((d) => (dir = d));

  function newSpool(opts: Partial<SpoolOptions> = {}): Spool {
    return new Spool({ dir, fsync: 'never', segmentBytes: REC1 * 8, ...opts });
  }

  function batcher(writer: FakeWriter, spool: Spool, ctx: Partial<WriteBatcherContext> = {}): WriteBatcher {
    const b = new WriteBatcher({
      writer,
      spool,
      random: () => 0.5,
      ...ctx,
      options: { maxBatchPoints: 10, maxPendingPoints: 30, flushIntervalMs: 100, stopTimeoutMs: 1000, retry: { initialDelayMs: 50, maxDelayMs: 200 }, ...ctx.options },
    });
    b.start();
    return b;
  }

  /** One ingest message: its points enqueued, then sealed (as the pipeline does before the ack). */
  function message(b: WriteBatcher, from: number, to: number): void {
    for (let i = from; i < to; i++) b.enqueue(point(i));
    b.seal();
  }

  test('memory mode: records are spooled at seal, written from memory, committed and their segments deleted', async () => {
    const w = new Writer();
    const spool = newSpool();
    const read: number[] = [];
    const b = batcher(w, spool, { hooks: { spoolRead: (n) => read.push(n) } });
    expect(b.recovery).toEqual({ records: 0, points: 0, tornRecords: 0, tornBytes: 0, segments: 1 });
    for (let m = 0; m < 20; m++) {
      message(b, m * 2, m * 2 + 2);
      await vi.advanceTimersByTimeAsync(7);
    }
    expect(spool.stats().nextSeq).toBe(21); // one record per message
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 40));
    expect(read).toEqual([]);
    expect(b.mode).toBe('memory');
    expect(spool.stats()).toMatchObject({ committedSeq: 20, segments: 1 });
    await b.stop();
    expect(segFiles(dir)).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ committed_seq: 20 });
  });

  test('writer down past maxPendingPoints: spool mode, memory released; on return every point is written once, in order', async () => {
    const w = new Writer();
    w.down = true;
    const spool = newSpool();
    const modes: string[] = [];
    const read: number[] = [];
    const b = batcher(w, spool, { hooks: { modeChanged: (m) => modes.push(m), spoolRead: (n) => read.push(n) } });
    for (let m = 0; m < 60; m++) {
      message(b, m * 2, m * 2 + 2);
      await vi.advanceTimersByTimeAsync(13);
    }
    expect(b.mode).toBe('spool');
    expect(modes).toEqual(['spool']);
    expect(memory(b)).toEqual({ records: 0, memPoints: 0 });
    expect(b.pendingPoints).toBe(120);
    expect(b.isBackedUp).toBe(false); // the spool takes it
    expect(w.written).toEqual([]);
    expect(spool.stats().segments).toBeGreaterThan(5);

    w.down = false;
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 120));
    expect(w.batches.every((x) => x.length <= 10)).toBe(true);
    expect(w.maxInFlight).toBe(1);
    expect(b.mode).toBe('memory');
    expect(modes).toEqual(['spool', 'memory']);
    // The first batch was in flight (cut from memory) before the switch; the rest came back from disk.
    expect(read.reduce((a, n) => a + n, 0)).toBe(120 - (w.batches[0] as Point[]).length);
    expect(b.pendingPoints).toBe(0);
    expect(b.lagMs).toBe(0);
    expect(spool.stats()).toMatchObject({ committedSeq: 60, segments: 1 });
    expect(segFiles(dir)).toHaveLength(1); // only the active segment is left

    // Memory mode again: new points come from memory, not from disk.
    const readBefore = read.length;
    message(b, 120, 125);
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 125));
    expect(read).toHaveLength(readBefore);
    await b.stop();
  });

  test('points sealed during the read-back are written after the backlog, in order', async () => {
    const w = new Writer();
    w.down = true;
    const spool = newSpool();
    const modes: string[] = [];
    const b = batcher(w, spool, { hooks: { modeChanged: (m) => modes.push(m) } });
    for (let m = 0; m < 50; m++) message(b, m, m + 1);
    await vi.advanceTimersByTimeAsync(500);
    expect(b.mode).toBe('spool');

    w.down = false;
    w.latencyMs = 15;
    const modeAtSeal: string[] = [];
    for (let m = 50; m < 110; m++) {
      modeAtSeal.push(b.mode);
      message(b, m, m + 1);
      await vi.advanceTimersByTimeAsync(4);
    }
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 110));
    expect(modeAtSeal).toContain('spool'); // some were sealed while the backlog was still read back
    expect(b.mode).toBe('memory');
    expect(modes[0]).toBe('spool');
    expect(modes[modes.length - 1]).toBe('memory');
    expect(b.pendingPoints).toBe(0);
    await b.stop();
  });

  test('stopped with the writer down: the points stay in the spool and a new batcher on the same dir replays them', async () => {
    const w1 = new Writer();
    const s1 = newSpool();
    const b1 = batcher(w1, s1);
    for (let m = 0; m < 4; m++) message(b1, m * 3, m * 3 + 3);
    await settle(b1.flush());
    expect(w1.written).toEqual(points(0, 12));

    w1.down = true;
    for (let m = 4; m < 24; m++) message(b1, m * 3, m * 3 + 3); // 60 points: past maxPendingPoints too
    await vi.advanceTimersByTimeAsync(300);
    expect(b1.mode).toBe('spool');
    const stopped = b1.stop();
    await vi.advanceTimersByTimeAsync(1000); // stopTimeoutMs
    await stopped;
    expect(b1.pendingPoints).toBe(60);
    expect(segFiles(dir).length).toBeGreaterThan(0);
    const attempts = w1.attemptsAtMs.length;

    const w2 = new Writer();
    const s2 = newSpool();
    const modes: string[] = [];
    const b2 = batcher(w2, s2, { hooks: { modeChanged: (m) => modes.push(m) } });
    expect(b2.recovery).toMatchObject({ records: 20, points: 60, tornRecords: 0 });
    expect(b2.pendingPoints).toBe(60);
    expect(modes).toEqual(['spool']);
    await settle(b2.flush());
    expect(w2.written).toEqual(points(12, 72));
    // Read back from disk, batches still hold at most maxBatchPoints (here 3 records of 3 points, never 4).
    expect(w2.batches.map((x) => x.length)).toEqual([9, 9, 9, 9, 9, 9, 6]);
    expect(b2.mode).toBe('memory');
    expect(b2.pendingPoints).toBe(0);
    // New points after the replay follow in order.
    message(b2, 72, 75);
    await settle(b2.flush());
    expect(w2.written).toEqual(points(12, 75));
    await b2.stop();
    expect(segFiles(dir)).toEqual([]);
    expect(w1.attemptsAtMs).toHaveLength(attempts); // the stopped batcher stayed stopped
  });

  test('a crash (no stop) replays everything not committed; duplicates only for records after the checkpoint', async () => {
    const w1 = new Writer();
    const s1 = newSpool(); // 8 one-point records per segment: segments go (and the checkpoint moves) as writes commit
    const b1 = batcher(w1, s1);
    for (let m = 0; m < 100; m++) {
      message(b1, m, m + 1);
      await vi.advanceTimersByTimeAsync(3);
    }
    await settle(b1.flush());
    expect(w1.written).toEqual(points(0, 100));
    expect(s1.stats().committedSeq).toBe(100);

    w1.down = true; // and stays down: the crashed batcher's timers must not write anything
    for (let m = 100; m < 150; m++) message(b1, m, m + 1);
    await vi.advanceTimersByTimeAsync(200);
    // Crash: neither stop() nor close(). The checkpoint on disk lags the last commit by less than a segment.
    const checkpoint = (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { committed_seq: number }).committed_seq;
    expect(checkpoint).toBeGreaterThan(80);
    expect(checkpoint).toBeLessThanOrEqual(100);

    const w2 = new Writer();
    const s2 = newSpool();
    const b2 = batcher(w2, s2);
    expect(b2.recovery).toMatchObject({ records: 150 - checkpoint, points: 150 - checkpoint, tornRecords: 0 });
    await settle(b2.flush());
    // Everything after the checkpoint, in order; nothing before it.
    expect(w2.written).toEqual(points(checkpoint, 150));
    const store = [...w1.written, ...w2.written];
    expect(new Set(store.map(key))).toEqual(new Set(points(0, 150).map(key)));
    const duplicates = store.length - 150;
    expect(duplicates).toBe(100 - checkpoint);
    expect(duplicates).toBeLessThanOrEqual(b2.recovery!.records);
    expect(duplicates).toBeLessThan(8); // at most one segment's worth
    await b2.stop();
    expect(segFiles(dir)).toEqual([]);
  });

  test('a crash with a torn last record loses only that record', async () => {
    const w1 = new Writer();
    w1.down = true;
    const s1 = newSpool({ segmentBytes: 1024 * 1024 });
    const b1 = batcher(w1, s1);
    for (let m = 0; m < 10; m++) message(b1, m * 2, m * 2 + 2);
    await vi.advanceTimersByTimeAsync(100);
    const [seg] = segFiles(dir);
    const path = join(dir, seg!);
    truncateSync(path, statSync(path).size - 5);

    const w2 = new Writer();
    const b2 = batcher(w2, newSpool());
    expect(b2.recovery).toMatchObject({ records: 9, points: 18, tornRecords: 1 });
    await settle(b2.flush());
    expect(w2.written).toEqual(points(0, 18));
    await b2.stop();
  });

  test('a failed spool append keeps the record in memory: isBackedUp until it is written, spoolFailed called', async () => {
    const w = new Writer();
    w.down = true;
    const spool = newSpool();
    const append = spool.append.bind(spool);
    let failAppends = 0;
    spool.append = (atMs, pts) => {
      if (failAppends > 0) {
        failAppends--;
        throw new Error('ENOSPC: no space left on device');
      }
      return append(atMs, pts);
    };
    const failures: unknown[] = [];
    const b = batcher(w, spool, { hooks: { spoolFailed: (err) => failures.push(err) } });

    message(b, 0, 2);
    failAppends = 1;
    message(b, 2, 4); // memory only
    message(b, 4, 6);
    expect(failures).toHaveLength(1);
    expect((failures[0] as Error).message).toMatch(/ENOSPC/);
    expect(b.isBackedUp).toBe(true);
    expect(spool.stats().nextSeq).toBe(3); // two records made it to disk
    await vi.advanceTimersByTimeAsync(2000); // the batch is cut and retried while the store is down
    expect(w.attemptsAtMs.length).toBeGreaterThan(3);
    expect(b.isBackedUp).toBe(true); // not written yet: a crash now would lose it

    w.down = false;
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 6));
    expect(b.isBackedUp).toBe(false);
    expect(b.pendingPoints).toBe(0);
    expect(spool.stats().committedSeq).toBe(2);
    await b.stop();
  });

  test('a failed spool append while reading back: every point is still written exactly once and memory accounting returns to zero', async () => {
    const w = new Writer();
    w.down = true;
    const spool = newSpool();
    const append = spool.append.bind(spool);
    let failAppends = 0;
    spool.append = (atMs, pts) => {
      if (failAppends > 0) {
        failAppends--;
        throw new Error('EIO');
      }
      return append(atMs, pts);
    };
    const modes: string[] = [];
    const b = batcher(w, spool, { hooks: { modeChanged: (m) => modes.push(m) } });
    for (let m = 0; m < 25; m++) message(b, m * 2, m * 2 + 2);
    expect(b.mode).toBe('spool');
    failAppends = 1;
    message(b, 50, 53); // held in memory
    message(b, 53, 55); // spooled
    expect(b.isBackedUp).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(b.isBackedUp).toBe(true);

    w.down = false;
    await settle(b.flush());
    const written = w.written;
    expect(written).toHaveLength(55);
    expect(new Set(written.map(key))).toEqual(new Set(points(0, 55).map(key)));
    // Spooled points keep their order among themselves (the one held in memory is written in between).
    const unspooled = new Set(points(50, 53).map(key));
    expect(written.filter((p) => !unspooled.has(key(p)))).toEqual([...points(0, 50), ...points(53, 55)]);
    expect(b.isBackedUp).toBe(false);
    expect(b.mode).toBe('memory');
    expect(modes).toEqual(['spool', 'memory']);
    expect(memory(b)).toEqual({ records: 0, memPoints: 0 });

    // The memory/spool cycle works as before afterwards.
    w.down = true;
    for (let m = 0; m < 25; m++) message(b, 100 + m * 2, 102 + m * 2);
    expect(b.mode).toBe('spool');
    w.down = false;
    await settle(b.flush());
    expect(w.written.slice(55)).toEqual(points(100, 150));
    expect(memory(b)).toEqual({ records: 0, memPoints: 0 });
    await b.stop();
  });

  test('lagMs grows while the writer is down (in memory and in spool mode) and drops to 0 once written', async () => {
    const w = new Writer();
    w.down = true;
    const b = batcher(w, newSpool());
    expect(b.lagMs).toBe(0);
    message(b, 0, 1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(b.lagMs).toBe(1000);
    for (let m = 1; m < 40; m++) message(b, m, m + 1);
    expect(b.mode).toBe('spool');
    await vi.advanceTimersByTimeAsync(4000);
    expect(b.lagMs).toBe(5000);
    w.down = false;
    await settle(b.flush());
    expect(b.lagMs).toBe(0);
    expect(w.written).toEqual(points(0, 40));
    await b.stop();
  });

  test('lagMs after a restart counts from when the replayed points were first received', async () => {
    const w1 = new Writer();
    w1.down = true;
    const b1 = batcher(w1, newSpool());
    message(b1, 0, 3);
    const stopped = b1.stop();
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;
    await vi.advanceTimersByTimeAsync(9000);

    const w2 = new Writer();
    w2.down = true;
    const b2 = batcher(w2, newSpool());
    expect(b2.recovery).toMatchObject({ points: 3 });
    await vi.advanceTimersByTimeAsync(0);
    expect(b2.lagMs).toBe(10_000);
    w2.down = false;
    await settle(b2.flush());
    expect(b2.lagMs).toBe(0);
    await b2.stop();
  });

  test('isBackedUp follows the spool filling up and draining', async () => {
    const w = new Writer();
    w.down = true;
    const b = batcher(w, newSpool({ maxBytes: REC1 * 20, segmentBytes: REC1 * 4 }));
    for (let m = 0; m < 19; m++) message(b, m, m + 1);
    expect(b.isBackedUp).toBe(false);
    message(b, 19, 20);
    expect(b.isBackedUp).toBe(true);
    w.down = false;
    await settle(b.flush());
    expect(b.isBackedUp).toBe(false);
    expect(w.written).toEqual(points(0, 20));
    await b.stop();
  });

  test('isBackedUp clears once everything is written even when maxBytes is below segmentBytes', async () => {
    const w = new Writer();
    w.down = true;
    const spool = newSpool({ maxBytes: REC1 * 5, segmentBytes: 1024 * 1024 });
    const b = batcher(w, spool);
    for (let m = 0; m < 5; m++) message(b, m, m + 1);
    expect(b.isBackedUp).toBe(true);
    w.down = false;
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 5));
    expect(b.isBackedUp).toBe(false); // else the ingest would wait forever: nothing is appended while it waits
    message(b, 5, 6);
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 6));
    await b.stop();
    expect(segFiles(dir)).toEqual([]);
  });

  test('a throwing modeChanged hook does not break start() with a backlog', async () => {
    const w1 = new Writer();
    w1.down = true;
    const b1 = batcher(w1, newSpool());
    message(b1, 0, 4);
    const stopped = b1.stop();
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;

    const w2 = new Writer();
    const hooks: WriteBatcherHooks = {
      modeChanged: () => {
        throw new Error('log exploded');
      },
    };
    const b2 = batcher(w2, newSpool(), { hooks });
    await settle(b2.flush());
    expect(w2.written).toEqual(points(0, 4));
    await b2.stop();
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);
  });
});

describe('storage/batcher with a writer that encodes (issue 9)', () => {
  let dir: string;
  withFakeTimersAndDir((d) => (dir = d));

  test('each record is encoded once when sealed and written as chunks; what comes back from the spool is written as points', async () => {
    const w = new EncodingFakeWriter();
    const encoded: number[] = [];
    const encode = w.encode.bind(w);
    w.encode = (ps) => {
      encoded.push(ps.length);
      return encode(ps);
    };
    const asPoints = vi.spyOn(w, 'write');
    const b = new WriteBatcher({
      writer: w,
      spool: new Spool({ dir, fsync: 'never', segmentBytes: REC1 * 8 }),
      random: () => 0.5,
      options: { maxBatchPoints: 10, maxPendingPoints: 30, flushIntervalMs: 100, stopTimeoutMs: 1000, retry: { initialDelayMs: 50, maxDelayMs: 200 } },
    });
    b.start();
    const message = (from: number, to: number): void => {
      for (let i = from; i < to; i++) b.enqueue(point(i));
      b.seal();
    };
    for (let m = 0; m < 5; m++) message(m * 2, m * 2 + 2);
    expect(encoded).toEqual([2, 2, 2, 2, 2]); // at seal, before any write
    await settle(b.flush());
    expect(w.encodedWrites).toBe(1);
    expect(w.written).toEqual(points(0, 10));

    // The writer down past maxPendingPoints: the batcher reads the backlog back from disk, as points.
    w.down = true;
    for (let m = 5; m < 40; m++) {
      message(m * 2, m * 2 + 2);
      await vi.advanceTimersByTimeAsync(13);
    }
    expect(b.mode).toBe('spool');
    w.down = false;
    const chunkWritesBefore = w.encodedWrites;
    await settle(b.flush());
    expect(w.written).toEqual(points(0, 80));
    expect(w.encodedWrites - chunkWritesBefore).toBeLessThanOrEqual(1); // at most the batch in flight at the switch
    expect(asPoints.mock.calls.length - w.encodedWrites).toBeGreaterThan(0); // read-back batches came as points
    expect(b.pendingPoints).toBe(0);
    await b.stop();
  });
});
