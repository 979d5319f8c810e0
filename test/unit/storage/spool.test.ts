import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Point } from '../../../src/storage/point.js';
import { DEFAULT_SPOOL_OPTIONS, decodeRecord, encodeRecord, Spool, type SpoolOptions, type SpoolPosition, type SpoolRecord } from '../../../src/storage/spool.js';

/**
 * Fault injection for node:fs as the spool sees it: every call passes through to the real module, except that
 * `writeBudget` (when set) caps the bytes writeSync may still write (a disk filling up: a short write, then ENOSPC),
 * and fsyncSync calls are counted.
 */
const fault = vi.hoisted(() => ({ writeBudget: undefined as number | undefined, fsyncCalls: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = (fd: number, buf: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null): number => {
    const off = offset ?? 0;
    const len = length ?? buf.byteLength - off;
    if (fault.writeBudget === undefined) return fs.writeSync(fd, buf, off, len, position);
    if (fault.writeBudget <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = fs.writeSync(fd, buf, off, Math.min(len, fault.writeBudget), position);
    fault.writeBudget -= n;
    return n;
  };
  const fsyncSync = (fd: number): void => {
    fault.fsyncCalls++;
    fs.fsyncSync(fd);
  };
  return { ...fs, default: { ...fs, writeSync, fsyncSync }, writeSync, fsyncSync };
});

const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

/** Every point encodes to the same number of bytes (so record sizes are predictable), unless `tagPad` is given. */
function point(i: number, tagPad = ''): Point {
  return { measurement: 'gas', tags: { tenant: 't1', device: `d${i % 3}${tagPad}` }, fields: { concentration_lel: 1_000_000 + i, alarm: false, ok: true }, timeMs: 1_700_000_000_000 + i };
}

/** Points of record `r` (0-based) when every record holds `per` consecutive points. */
function recPoints(r: number, per = 1): Point[] {
  return Array.from({ length: per }, (_, k) => point(r * per + k));
}

function segFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort();
}

/** Reads everything from `from` to the tail, `maxPoints` per call; returns the records and the number of calls. */
function readAll(spool: Spool, from: SpoolPosition, maxPoints = Number.POSITIVE_INFINITY): { records: SpoolRecord[]; calls: number } {
  const records: SpoolRecord[] = [];
  let pos = from;
  let calls = 0;
  for (;;) {
    const r = spool.read(pos, maxPoints);
    calls++;
    records.push(...r.records);
    pos = r.next;
    if (r.records.length === 0 || (pos.segment === spool.tail.segment && pos.offset === spool.tail.offset)) break;
    if (calls > 10_000) throw new Error('read does not progress');
  }
  expect(pos).toEqual(spool.tail);
  return { records, calls };
}

describe('storage/spool', () => {
  let dir: string;
  const spools: Spool[] = [];

  function spool(opts: Partial<SpoolOptions> = {}, hooks: ConstructorParameters<typeof Spool>[1] = {}): Spool {
    const s = new Spool({ dir, fsync: 'never', ...opts }, hooks);
    spools.push(s);
    return s;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'riskgate-spool-'));
    fault.writeBudget = undefined;
    fault.fsyncCalls = 0;
  });
  afterEach(() => {
    fault.writeBudget = undefined;
    for (const s of spools.splice(0)) {
      try {
        s.close();
      } catch {
        // a test may have removed its files already
      }
    }
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  test('defaults match the documented values', () => {
    expect(DEFAULT_SPOOL_OPTIONS).toEqual({ segmentBytes: 16 * 1024 * 1024, maxBytes: 1024 * 1024 * 1024, fsync: 'interval', fsyncIntervalMs: 1000 });
  });

  test('encodeRecord / decodeRecord round trip; a wrong checksum, marker or a short buffer is recognised', () => {
    const rec: SpoolRecord = { seq: 42, atMs: T0, points: [point(1), point(2)] };
    const buf = encodeRecord(rec);
    expect(buf.subarray(0, 4).toString('latin1')).toBe('RGS1');
    expect(decodeRecord(buf, 0)).toEqual({ kind: 'record', record: rec, bytes: buf.length });
    expect(decodeRecord(buf, buf.length)).toEqual({ kind: 'end' });
    expect(decodeRecord(buf.subarray(0, buf.length - 1), 0)).toEqual({ kind: 'short' });
    expect(decodeRecord(buf.subarray(0, 10), 0)).toEqual({ kind: 'short' });
    const flipped = Buffer.from(buf);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 0x01;
    expect(decodeRecord(flipped, 0)).toMatchObject({ kind: 'bad', why: 'checksum mismatch' });
    const noMagic = Buffer.from(buf);
    noMagic[0] = 0;
    expect(decodeRecord(noMagic, 0)).toMatchObject({ kind: 'bad', why: 'no record marker' });
  });

  test('append / read round trip: points equal, seq increasing, positions point at their records', () => {
    const s = spool();
    expect(s.open()).toEqual({ records: 0, points: 0, tornRecords: 0, tornBytes: 0, segments: 1 });
    const appended: { seq: number; pos: SpoolPosition }[] = [];
    for (let r = 0; r < 20; r++) appended.push(s.append(T0 + r, recPoints(r, 1 + (r % 4))));
    expect(appended.map((a) => a.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const { records } = readAll(s, appended[0]!.pos);
    expect(records.map((r) => r.seq)).toEqual(appended.map((a) => a.seq));
    expect(records.map((r) => r.atMs)).toEqual(Array.from({ length: 20 }, (_, r) => T0 + r));
    expect(records.map((r) => r.points)).toEqual(Array.from({ length: 20 }, (_, r) => recPoints(r, 1 + (r % 4))));
    // Each returned position reads back exactly its own record first.
    for (const a of appended) expect(s.read(a.pos, 1).records.map((r) => r.seq)).toEqual([a.seq]);
    expect(s.stats()).toMatchObject({ segments: 1, committedSeq: 0, nextSeq: 21 });
    expect(s.stats().bytes).toBe(statSync(join(dir, segFiles(dir)[0]!)).size);
  });

  test('segments rotate at segmentBytes; commit() deletes wholly committed segments and writes the checkpoint', () => {
    const recBytes = encodeRecord({ seq: 1, atMs: T0, points: recPoints(0) }).length;
    const s = spool({ segmentBytes: recBytes * 3 }); // three records per segment
    s.open();
    const appended = Array.from({ length: 10 }, (_, r) => s.append(T0, recPoints(r)));
    // 10 records, 3 per segment: 1-3, 4-6, 7-9, 10 (+ nothing more: the 4th is active).
    expect(segFiles(dir)).toEqual(['0000000000000001.seg', '0000000000000004.seg', '0000000000000007.seg', '0000000000000010.seg']);
    expect(new Set(appended.map((a) => a.pos.segment))).toEqual(new Set([1, 4, 7, 10]));
    expect(s.stats().segments).toBe(4);
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);

    s.commit(2); // segment 1 still holds 3
    expect(segFiles(dir)).toHaveLength(4);
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false); // no segment went, < 256 commits: not written yet

    s.commit(5); // segment 1 is wholly committed; segment 4 is not
    expect(segFiles(dir)).toEqual(['0000000000000004.seg', '0000000000000007.seg', '0000000000000010.seg']);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ committed_seq: 5 });
    expect(s.stats()).toMatchObject({ segments: 3, committedSeq: 5, bytes: recBytes * 7 });

    s.commit(4); // going backwards is ignored
    expect(s.stats().committedSeq).toBe(5);

    s.commit(10); // everything: the active segment stays (appends go there)
    expect(segFiles(dir)).toEqual(['0000000000000010.seg']);
    expect(s.stats()).toMatchObject({ segments: 1, committedSeq: 10 });
    // Reading from a position in a deleted segment continues at the oldest one left.
    expect(s.read(appended[0]!.pos, 100).records.map((r) => r.seq)).toEqual([10]);
  });

  test('the checkpoint is honoured on reopen: committed records are not replayed, the others are, from the right place', () => {
    const s1 = spool();
    s1.open();
    const appended = Array.from({ length: 10 }, (_, r) => s1.append(T0 + r, recPoints(r, 2)));
    s1.commit(6);
    s1.close();
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ committed_seq: 6 });

    const s2 = spool();
    const rec = s2.open();
    expect(rec).toEqual({ records: 4, points: 8, tornRecords: 0, tornBytes: 0, segments: 2, from: appended[6]!.pos });
    const { records } = readAll(s2, rec.from!);
    expect(records.map((r) => r.seq)).toEqual([7, 8, 9, 10]);
    expect(records.flatMap((r) => r.points)).toEqual(Array.from({ length: 8 }, (_, i) => point(12 + i)));
    expect(s2.stats().committedSeq).toBe(6);
  });

  test('a reopen after everything was committed replays nothing and leaves no segment behind', () => {
    const s1 = spool();
    s1.open();
    for (let r = 0; r < 5; r++) s1.append(T0, recPoints(r));
    s1.commit(5);
    s1.close();
    expect(segFiles(dir)).toEqual([]);
    const s2 = spool();
    expect(s2.open()).toEqual({ records: 0, points: 0, tornRecords: 0, tornBytes: 0, segments: 1 });
  });

  test('a torn last record (file cut mid-record) is detected on open; every record before it is intact and replayed', () => {
    const torn: [string, number, number, string][] = [];
    const s1 = spool();
    s1.open();
    const appended = Array.from({ length: 6 }, (_, r) => s1.append(T0, recPoints(r, 3)));
    s1.close(); // nothing committed: the segment stays
    const [file] = segFiles(dir);
    const path = join(dir, file!);
    const size = statSync(path).size;
    const lastStart = appended[5]!.pos.offset;
    truncateSync(path, lastStart + 23); // header and 3 bytes of payload made it to disk

    const s2 = spool({}, { tornRecord: (p, offset, bytes, why) => torn.push([p, offset, bytes, why]) });
    const rec = s2.open();
    expect(rec).toMatchObject({ records: 5, points: 15, tornRecords: 1, tornBytes: 23, from: { segment: 1, offset: 0 } });
    expect(torn).toEqual([[path, lastStart, 23, 'record cut short (torn write)']]);
    const { records } = readAll(s2, rec.from!);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records.flatMap((r) => r.points)).toEqual(Array.from({ length: 15 }, (_, i) => point(i)));
    expect(statSync(path).size).toBe(lastStart); // rewritten without the torn tail
    expect(size).toBeGreaterThan(lastStart + 23);
    // A record cut inside its header is torn as well.
    s2.close();
    truncateSync(path, appended[4]!.pos.offset + 7);
    const s3 = spool();
    expect(s3.open()).toMatchObject({ records: 4, tornRecords: 1, tornBytes: 7 });
  });

  // Offsets inside the record header (magic 0, length 4, crc 8, seq 12) and the payload (20+).
  test.each([
    ['magic', 1],
    ['length (low byte: crc no longer matches)', 4],
    ['length (high byte: impossible length)', 7],
    ['checksum', 9],
    ['sequence number', 15],
    ['payload', 30],
  ])('a flipped byte in the %s of a middle record is skipped; the records after it are still read', (_what, at) => {
    const torn: [number, number, string][] = [];
    const s1 = spool();
    s1.open();
    const appended = Array.from({ length: 5 }, (_, r) => s1.append(T0, recPoints(r, 2)));
    s1.close();
    const path = join(dir, segFiles(dir)[0]!);
    const buf = readFileSync(path);
    const start = appended[2]!.pos.offset;
    const bytes = appended[3]!.pos.offset - start;
    buf[start + at] = (buf[start + at] as number) ^ 0xff;
    writeFileSync(path, buf);

    const s2 = spool({}, { tornRecord: (_p, offset, n, why) => torn.push([offset, n, why]) });
    const rec = s2.open();
    expect(rec).toMatchObject({ records: 4, points: 8, tornRecords: 1, tornBytes: bytes });
    expect(torn).toHaveLength(1);
    expect(torn[0]!.slice(0, 2)).toEqual([start, bytes]);
    const { records } = readAll(s2, rec.from!);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 4, 5]);
    expect(records.flatMap((r) => r.points)).toEqual([...recPoints(0, 2), ...recPoints(1, 2), ...recPoints(3, 2), ...recPoints(4, 2)]);

    // The damage was rewritten away: a second open finds nothing torn and the same records.
    s2.close();
    expect(statSync(path).size).toBe(buf.length - bytes);
    const s3 = spool();
    const rec3 = s3.open();
    expect(rec3).toMatchObject({ records: 4, points: 8, tornRecords: 0, tornBytes: 0 });
    expect(readAll(s3, rec3.from!).records.map((r) => r.seq)).toEqual([1, 2, 4, 5]);
  });

  test('two damaged stretches in one segment and a torn tail are all counted; a segment holding only damage is dropped', () => {
    const recBytes = encodeRecord({ seq: 1, atMs: T0, points: recPoints(0) }).length;
    const s1 = spool({ segmentBytes: recBytes * 4 });
    s1.open();
    const appended = Array.from({ length: 8 }, (_, r) => s1.append(T0, recPoints(r)));
    s1.close();
    // Segment 1 holds 1-4, segment 5 holds 5-8. Damage 1 and 3 in segment 1; every record of segment 5.
    const [seg1, seg5] = segFiles(dir).map((f) => join(dir, f));
    const b1 = readFileSync(seg1!);
    for (const i of [0, 2]) b1[appended[i]!.pos.offset + 25] = (b1[appended[i]!.pos.offset + 25] as number) ^ 0x55;
    writeFileSync(seg1!, b1);
    const b5 = readFileSync(seg5!);
    for (let i = 4; i < 8; i++) b5[appended[i]!.pos.offset + 0] = 0;
    writeFileSync(seg5!, b5);

    const s2 = spool();
    const rec = s2.open();
    expect(rec).toMatchObject({ records: 2, points: 2, tornRecords: 3, tornBytes: recBytes * 6 });
    expect(readAll(s2, rec.from!).records.map((r) => r.seq)).toEqual([2, 4]);
    // Segment 5 was dropped; the fresh active segment happens to take the free name (nextSeq is 5) and starts empty.
    expect(statSync(seg5!).size).toBe(0);
    // The highest readable sequence number was 4, yet the next one must not reuse a name of a dropped segment's range
    // in a way that collides: appends get fresh numbers and read back after the old records.
    const next = s2.append(T0, [point(99)]);
    expect(next.seq).toBeGreaterThan(4);
    expect(readAll(s2, rec.from!).records.map((r) => r.seq)).toEqual([2, 4, next.seq]);
  });

  test('isFull turns true at maxBytes of uncommitted segments and false again once they are committed', () => {
    const recBytes = encodeRecord({ seq: 1, atMs: T0, points: recPoints(0) }).length;
    const s = spool({ segmentBytes: recBytes * 2, maxBytes: recBytes * 5 });
    s.open();
    for (let r = 0; r < 4; r++) {
      s.append(T0, recPoints(r));
      expect(s.isFull).toBe(false);
    }
    s.append(T0, recPoints(4));
    expect(s.stats().bytes).toBe(recBytes * 5);
    expect(s.isFull).toBe(true);
    s.append(T0, recPoints(5)); // still accepted: isFull is advice to the ingest, the spool drops nothing
    expect(s.isFull).toBe(true);
    s.commit(4); // segments 1-2 and 3-4 go
    expect(s.stats().bytes).toBe(recBytes * 2);
    expect(s.isFull).toBe(false);
  });

  test('isFull counts only the records not yet stored: stored records left in the active segment do not hold the ingest', () => {
    const recBytes = encodeRecord({ seq: 1, atMs: T0, points: recPoints(0) }).length;
    const s = spool({ segmentBytes: 1024 * 1024, maxBytes: recBytes * 3 });
    s.open();
    const a = Array.from({ length: 4 }, (_, r) => s.append(T0, recPoints(r)));
    expect(s.isFull).toBe(true);
    expect(s.stats()).toMatchObject({ bytes: recBytes * 4, pendingBytes: recBytes * 4 });
    s.commit(3, a[2]!.end); // the one segment still holds record 4: the file stays, the backlog is one record
    expect(s.isFull).toBe(false);
    expect(s.stats()).toMatchObject({ bytes: recBytes * 4, pendingBytes: recBytes, segments: 1 });
    expect(segFiles(dir)).toEqual(['0000000000000001.seg']);
    s.commit(4); // no position given: every record appended so far is stored
    expect(s.stats()).toMatchObject({ pendingBytes: 0, nextSeq: 5 });
    // A reader positioned after the last record finds the next append.
    const next = s.append(T0, recPoints(4));
    expect(s.read(a[3]!.end, 10).records.map((r) => r.seq)).toEqual([next.seq]);
    expect(s.stats().pendingBytes).toBe(recBytes);
  });

  test('read() across several segments honours maxPoints (at least one record per call) and hands over between segments', () => {
    const recBytes = encodeRecord({ seq: 1, atMs: T0, points: recPoints(0, 3) }).length;
    const s = spool({ segmentBytes: recBytes * 4 + 1 });
    s.open();
    const appended = Array.from({ length: 22 }, (_, r) => s.append(T0, recPoints(r, 3)));
    expect(s.stats().segments).toBe(5); // 5 records per segment: 1-5, 6-10, 11-15, 16-20, 21-22

    // 7 points: records of 3 points are read while they fit, i.e. 2 records (6 points); the third waits.
    const first = s.read(appended[0]!.pos, 7);
    expect(first.records.map((r) => r.seq)).toEqual([1, 2]);
    expect(first.next).toEqual(appended[2]!.pos);
    // Across a segment boundary in one call.
    const across = s.read(appended[3]!.pos, 12);
    expect(across.records.map((r) => r.seq)).toEqual([4, 5, 6, 7]);
    expect(across.next).toEqual(appended[7]!.pos);
    // The limit falls at a segment boundary: the next read starts in the next segment.
    const atBoundary = s.read(appended[3]!.pos, 8);
    expect(atBoundary.records.map((r) => r.seq)).toEqual([4, 5]);
    expect(s.read(atBoundary.next, 3).records.map((r) => r.seq)).toEqual([6]);
    // maxPoints below one record's points still returns one record.
    expect(s.read(appended[10]!.pos, 1).records.map((r) => r.seq)).toEqual([11]);
    // The end of a full segment continues in the next one.
    expect(s.read({ segment: 1, offset: recBytes * 5 }, 3).records.map((r) => r.seq)).toEqual([6]);

    for (const [maxPoints, calls] of [
      [1, 22],
      [3, 22],
      [5, 22],
      [6, 11],
      [10, 8],
      [1000, 1],
    ] as const) {
      const r = readAll(s, appended[0]!.pos, maxPoints);
      expect(r.records.map((x) => x.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
      expect(r.records.flatMap((x) => x.points)).toEqual(Array.from({ length: 66 }, (_, i) => point(i)));
      expect(r.calls).toBe(calls);
    }
    // At the tail there is nothing to read.
    expect(s.read(s.tail, 10)).toEqual({ records: [], next: s.tail });
  });

  test('a record larger than the 4 MiB read chunk is read whole, between small records and across segments', () => {
    const big = point(1000, 'x'.repeat(5 * 1024 * 1024));
    const s = spool({ segmentBytes: 5 * 1024 * 1024 });
    s.open();
    const a = [
      s.append(T0, [point(0)]),
      s.append(T0, [point(1)]),
      s.append(T0, [big]), // follows small records in its chunk; crosses 5 MiB: the segment rotates after it
      s.append(T0, [point(2)]),
      s.append(T0, [big, point(3)]), // larger than a chunk again; rotates again
      s.append(T0, [point(4)]),
    ];
    expect(s.stats().segments).toBe(3);
    const { records } = readAll(s, a[0]!.pos);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records.map((r) => r.points)).toEqual([[point(0)], [point(1)], [big], [point(2)], [big, point(3)], [point(4)]]);
    // One record at a time, starting right at a big one.
    expect(s.read(a[2]!.pos, 1).records.map((r) => r.seq)).toEqual([3]);
    const fifth = s.read(a[4]!.pos, 1);
    expect(fifth.records).toEqual([{ seq: 5, atMs: T0, points: [big, point(3)] }]);
    expect(s.read(fifth.next, 1).records.map((r) => r.seq)).toEqual([6]);
    // And after a reopen (scan on open covers big records too).
    s.close();
    const s2 = spool();
    const rec = s2.open();
    expect(rec).toMatchObject({ records: 6, points: 7, tornRecords: 0 });
    expect(readAll(s2, rec.from!).records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('small records straddling the 4 MiB read-chunk boundary are read whole and in order', () => {
    const pad = 'y'.repeat(1000);
    const s = spool({ segmentBytes: 64 * 1024 * 1024 });
    s.open();
    const n = 5000; // ~5.3 MB in one segment: the first chunk ends inside some record
    const first = s.append(T0, [point(0, pad)]);
    for (let r = 1; r < n; r++) s.append(T0, [point(r, pad)]);
    expect(s.stats()).toMatchObject({ segments: 1 });
    expect(s.stats().bytes).toBeGreaterThan(4 * 1024 * 1024);
    for (const maxPoints of [Number.POSITIVE_INFINITY, 1500]) {
      const { records } = readAll(s, first.pos, maxPoints);
      expect(records).toHaveLength(n);
      expect(records.every((r, i) => r.seq === i + 1 && r.points[0]!.timeMs === point(i).timeMs && r.points[0]!.tags.device === point(i, pad).tags.device)).toBe(true);
    }
  });

  test('close() deletes wholly committed segments and keeps the uncommitted ones', () => {
    const recBytes = encodeRecord({ seq: 1, atMs: T0, points: recPoints(0) }).length;
    const s1 = spool({ segmentBytes: recBytes * 2 });
    s1.open();
    for (let r = 0; r < 7; r++) s1.append(T0, recPoints(r));
    // Segments 1-2, 3-4, 5-6, 7 (active).
    s1.commit(5); // 1-2 and 3-4 go; 5-6 holds 6, uncommitted
    expect(segFiles(dir)).toEqual(['0000000000000005.seg', '0000000000000007.seg']);
    s1.close();
    expect(segFiles(dir)).toEqual(['0000000000000005.seg', '0000000000000007.seg']);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ committed_seq: 5 });

    const s2 = spool({ segmentBytes: recBytes * 2 });
    const rec = s2.open();
    expect(rec).toMatchObject({ records: 2, points: 2 });
    expect(readAll(s2, rec.from!).records.map((r) => r.seq)).toEqual([6, 7]);
    s2.commit(6); // 5-6 goes; 7 stays until committed
    s2.close();
    expect(segFiles(dir)).toEqual(['0000000000000007.seg']);

    const s3 = spool();
    s3.open();
    s3.commit(7);
    s3.close(); // the old segment (committed) and the fresh empty active one are both deleted
    expect(segFiles(dir)).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ committed_seq: 7 });
  });

  test('nextSeq continues after a reopen and never reuses a sequence number (clean stop and crash)', () => {
    const s1 = spool();
    s1.open();
    for (let r = 0; r < 3; r++) s1.append(T0, recPoints(r));
    s1.commit(3);
    s1.close(); // all committed: no segment left, only the checkpoint remembers
    expect(segFiles(dir)).toEqual([]);

    const s2 = spool();
    s2.open();
    expect(s2.stats().nextSeq).toBe(4);
    expect(s2.append(T0, recPoints(3)).seq).toBe(4);
    expect(s2.append(T0, recPoints(4)).seq).toBe(5);
    s2.commit(4); // no checkpoint written (no segment removed, < 256)
    // Crash: s2 is never closed.
    const s3 = spool();
    const rec = s3.open();
    expect(rec).toMatchObject({ records: 2 }); // checkpoint still says 3: 4 and 5 are replayed
    expect(s3.stats().nextSeq).toBe(6);
    const a = s3.append(T0, recPoints(5));
    expect(a.seq).toBe(6);
    expect(readAll(s3, rec.from!).records.map((r) => r.seq)).toEqual([4, 5, 6]);

    const s4 = spool(); // crash of s3 too
    expect(s4.open()).toMatchObject({ records: 3 });
    expect(s4.stats().nextSeq).toBe(7);
  });

  test('an empty active segment left by a crash fixes the numbering even without a checkpoint', () => {
    const recBytes = encodeRecord({ seq: 1, atMs: T0, points: recPoints(0) }).length;
    const s1 = spool({ segmentBytes: recBytes * 3 });
    s1.open();
    for (let r = 0; r < 3; r++) s1.append(T0, recPoints(r)); // rotates: the active segment 4 is empty
    s1.commit(3); // segment 1 goes
    expect(segFiles(dir)).toEqual(['0000000000000004.seg']);
    rmSync(join(dir, 'checkpoint.json'));
    // Crash: s1 is never closed.
    const s2 = spool();
    expect(s2.open()).toMatchObject({ records: 0 });
    expect(s2.stats().nextSeq).toBe(4);
  });

  test('the checkpoint is written every 256 commits even when no segment goes', () => {
    const s = spool();
    s.open();
    for (let r = 0; r < 300; r++) s.append(T0, recPoints(r));
    s.commit(255);
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);
    s.commit(256);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ committed_seq: 256 });
    s.commit(300);
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ committed_seq: 256 });
  });

  test('a damaged checkpoint only means a longer replay', () => {
    const s1 = spool();
    s1.open();
    for (let r = 0; r < 4; r++) s1.append(T0, recPoints(r));
    s1.commit(2);
    s1.close();
    writeFileSync(join(dir, 'checkpoint.json'), '{"committed_se');
    const s2 = spool();
    expect(s2.open()).toMatchObject({ records: 4, from: { segment: 1, offset: 0 } });
  });

  test("fsync 'always' syncs every append; the records read back and survive a reopen", () => {
    const s = spool({ fsync: 'always' });
    s.open();
    for (let r = 0; r < 5; r++) s.append(T0, recPoints(r));
    expect(fault.fsyncCalls).toBe(5);
    s.close();
    const s2 = spool({ fsync: 'always' });
    const rec = s2.open();
    expect(rec).toMatchObject({ records: 5, points: 5 });
    expect(readAll(s2, rec.from!).records.flatMap((r) => r.points)).toEqual(Array.from({ length: 5 }, (_, i) => point(i)));
  });

  test("fsync 'never' does not sync appends; 'interval' syncs once per period when something was appended", () => {
    const never = spool({ fsync: 'never' });
    never.open();
    for (let r = 0; r < 5; r++) never.append(T0, recPoints(r));
    expect(fault.fsyncCalls).toBe(0);
    never.close();
    rmSync(dir, { recursive: true, force: true });

    vi.useFakeTimers();
    fault.fsyncCalls = 0;
    const s = spool({ fsync: 'interval', fsyncIntervalMs: 1000 });
    s.open();
    s.append(T0, recPoints(0));
    s.append(T0, recPoints(1));
    expect(fault.fsyncCalls).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(fault.fsyncCalls).toBe(1);
    vi.advanceTimersByTime(3000); // nothing appended since
    expect(fault.fsyncCalls).toBe(1);
    s.append(T0, recPoints(2));
    vi.advanceTimersByTime(1000);
    expect(fault.fsyncCalls).toBe(2);
    s.close();
    vi.advanceTimersByTime(5000); // the timer is gone
    expect(fault.fsyncCalls).toBe(2);
  });

  test('an append that fails part-way (disk full) throws, leaves no partial record, and later appends stay readable', () => {
    const torn: string[] = [];
    const s = spool({}, { tornRecord: (_p, _o, _n, why) => torn.push(why) });
    s.open();
    const ok1 = s.append(T0, recPoints(0));
    const ok2 = s.append(T0, recPoints(1));
    const sizeBefore = s.stats().bytes;
    fault.writeBudget = 10; // 10 more bytes fit, then ENOSPC
    expect(() => s.append(T0, recPoints(2))).toThrow(/ENOSPC/);
    expect(s.stats().bytes).toBe(sizeBefore);
    fault.writeBudget = undefined; // space freed
    const ok3 = s.append(T0, recPoints(3));
    expect(ok3.pos.offset).toBe(sizeBefore);
    expect(ok3.seq).toBeGreaterThan(ok2.seq);
    for (const a of [ok1, ok2, ok3]) expect(s.read(a.pos, 1).records[0]!.seq).toBe(a.seq);
    expect(readAll(s, ok1.pos).records.flatMap((r) => r.points)).toEqual([point(0), point(1), point(3)]);
    expect(torn).toEqual([]);
    s.close();
    const s2 = spool();
    expect(s2.open()).toMatchObject({ records: 3, tornRecords: 0 });
  });
});
