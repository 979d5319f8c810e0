import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Point } from './point.js';

/**
 * When appended records reach the disk:
 * - `always`: fsync after every append (a power loss loses nothing acknowledged; slowest),
 * - `interval`: fsync every `fsyncIntervalMs` (a power loss loses at most that much; a process crash nothing),
 * - `never`: the OS writes back when it likes (a process crash still loses nothing: the data is in the page cache).
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface SpoolOptions {
  /** Directory of the segment files and the checkpoint (created when missing). */
  dir: string;
  /** A segment is closed and a new one started once it holds this many bytes. Default 16 MiB. */
  segmentBytes: number;
  /** `isFull` turns true at this many bytes of uncommitted segments; the ingest then stops taking messages. Default 1 GiB. */
  maxBytes: number;
  fsync: FsyncPolicy;
  /** Period of the `interval` policy, ms. Default 1000. */
  fsyncIntervalMs: number;
}

export const DEFAULT_SPOOL_OPTIONS: Readonly<Omit<SpoolOptions, 'dir'>> = Object.freeze({
  segmentBytes: 16 * 1024 * 1024,
  maxBytes: 1024 * 1024 * 1024,
  fsync: 'interval',
  fsyncIntervalMs: 1000,
});

/** One appended record: the points of one ingest message, with a sequence number that only grows. */
export interface SpoolRecord {
  seq: number;
  /** Gateway receive time of the record, epoch ms. */
  atMs: number;
  points: Point[];
}

/** Where a record starts: segment (by its first sequence number) and byte offset. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

/** What `open()` found on disk. */
export interface SpoolRecovery {
  /** Records after the checkpoint: appended before the last stop or crash and not known to be stored. */
  records: number;
  points: number;
  /** Records that failed their checksum or were cut short (a torn write at a crash), skipped. */
  tornRecords: number;
  tornBytes: number;
  segments: number;
  /** The first record to replay, when there is one. */
  from?: SpoolPosition;
}

export interface SpoolStats {
  /** Bytes of the segment files on disk. */
  bytes: number;
  /** Bytes of the records not yet stored (what `maxBytes` bounds). */
  pendingBytes: number;
  segments: number;
  /** Highest sequence number known to be stored. */
  committedSeq: number;
  /** Sequence number the next append gets. */
  nextSeq: number;
}

interface Segment {
  first: number;
  path: string;
  bytes: number;
  /** Highest sequence number in the segment (first - 1 while empty). */
  last: number;
}

/**
 * Record layout, little-endian: magic u32 'RGS1' | payload length u32 | CRC-32 of seq+payload u32 | seq f64 | payload.
 * The payload is JSON `{a: atMs, p: [[measurement, tags, fields, timeMs], …]}`. The magic lets a reader find the next
 * record after a damaged one.
 */
const MAGIC = 0x31534752; // 'RGS1' read as u32 LE
const MAGIC_BYTES = Buffer.from([0x52, 0x47, 0x53, 0x31]);
const HEADER = 20;
/** A length above this cannot be a record of ours: the header is damaged. */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Records up to this size are encoded in one reused buffer; larger ones get their own. */
const SCRATCH_BYTES = 256 * 1024;
const SEGMENT_RE = /^(\d{16})\.seg$/;
const CHECKPOINT = 'checkpoint.json';

type WirePoint = [string, Record<string, string>, Point['fields'], number];

/**
 * The record's JSON payload, `{"a":atMs,"p":[[measurement,tags,fields,timeMs],…]}`, built without the intermediate
 * arrays of `{a, p: points.map(…)}` (issue 9); byte for byte what `JSON.stringify` of that object gives.
 */
function recordJson(atMs: number, points: readonly Point[]): string {
  // One JSON.stringify of the whole record (issue 9): a third cheaper than stringifying each point's parts and
  // concatenating them, and the same bytes (a non-finite number is `null` either way).
  const wire = new Array<WirePoint>(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as Point;
    wire[i] = [p.measurement, p.tags, p.fields, p.timeMs];
  }
  return JSON.stringify({ a: atMs, p: wire });
}

/** Encodes the record into `buf` (which must hold HEADER + 3 bytes per UTF-16 unit of the JSON); returns its length. */
function encodeInto(buf: Buffer, seq: number, json: string): number {
  const len = buf.write(json, HEADER, 'utf8');
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(len, 4);
  buf.writeDoubleLE(seq, 12);
  buf.writeUInt32LE(crc32(buf.subarray(12, HEADER + len)), 8);
  return HEADER + len;
}

export function encodeRecord(rec: SpoolRecord): Buffer {
  const json = recordJson(rec.atMs, rec.points);
  const buf = Buffer.allocUnsafe(HEADER + Buffer.byteLength(json, 'utf8'));
  encodeInto(buf, rec.seq, json);
  return buf;
}

/** Result of decoding at one offset: a record, the end of the data, or damage. */
type Decoded = { kind: 'record'; record: SpoolRecord; bytes: number } | { kind: 'end' } | { kind: 'short' } | { kind: 'bad'; why: string };

export function decodeRecord(buf: Buffer, offset: number): Decoded {
  if (offset >= buf.length) return { kind: 'end' };
  if (buf.length - offset < HEADER) return { kind: 'short' };
  if (buf.readUInt32LE(offset) !== MAGIC) return { kind: 'bad', why: 'no record marker' };
  const len = buf.readUInt32LE(offset + 4);
  if (len > MAX_RECORD_BYTES) return { kind: 'bad', why: `record length ${len} is impossible` };
  if (buf.length - offset < HEADER + len) return { kind: 'short' };
  const crc = buf.readUInt32LE(offset + 8);
  if (crc32(buf.subarray(offset + 12, offset + HEADER + len)) !== crc) return { kind: 'bad', why: 'checksum mismatch' };
  const seq = buf.readDoubleLE(offset + 12);
  try {
    const json = JSON.parse(buf.toString('utf8', offset + HEADER, offset + HEADER + len)) as { a: number; p: WirePoint[] };
    const points = json.p.map(([measurement, tags, fields, timeMs]) => ({ measurement, tags, fields, timeMs }));
    return { kind: 'record', record: { seq, atMs: json.a, points }, bytes: HEADER + len };
  } catch (err) {
    return { kind: 'bad', why: `payload is not a record: ${(err as Error).message}` };
  }
}

/** Callbacks for metrics and logs. */
export interface SpoolHooks {
  /** A damaged or cut-short record was skipped (`bytes` of it). */
  tornRecord?(segmentPath: string, offset: number, bytes: number, why: string): void;
}

/**
 * The write-ahead spool of accepted points: append-only segment files with a checksum per record, read back in
 * order by the store writer whenever the points are not (or no longer) held in memory, and deleted once every record in a
 * segment is stored. A checkpoint file remembers the highest stored sequence number; on open, every record after it
 * is replayed (a point written twice is the same point, so a replay cannot duplicate anything in the store).
 */
export class Spool {
  readonly opts: SpoolOptions;
  private readonly hooks: SpoolHooks;
  private segments: Segment[] = [];
  private fd: number | undefined;
  private nextSeq = 1;
  private committed = 0;
  private dirty = false;
  private fsyncTimer: ReturnType<typeof setInterval> | undefined;
  private checkpointWrittenSeq = 0;
  /** Read cursor's open file, kept between reads of the same segment. */
  private readFd: { segment: number; fd: number } | undefined;
  private totalBytes = 0;
  /** Where the first record not known to be stored starts. */
  private committedPos: SpoolPosition = { segment: 0, offset: 0 };
  /** Every record up to SCRATCH_BYTES is encoded here and written from here: no Buffer per append (issue 9). */
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

  constructor(opts: Partial<SpoolOptions> & { dir: string }, hooks: SpoolHooks = {}) {
    this.opts = { ...DEFAULT_SPOOL_OPTIONS, ...opts };
    this.hooks = hooks;
  }

  /** Scans the segments after the checkpoint (skipping torn records), then starts a fresh segment for appends. */
  open(): SpoolRecovery {
    mkdirSync(this.opts.dir, { recursive: true });
    this.committed = this.readCheckpoint();
    this.checkpointWrittenSeq = this.committed;
    const files = readdirSync(this.opts.dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ first: Number(m[1]), path: join(this.opts.dir, m[0]) }))
      .sort((a, b) => a.first - b.first);
    const rec: SpoolRecovery = { records: 0, points: 0, tornRecords: 0, tornBytes: 0, segments: 0 };
    let maxSeq = this.committed;
    for (const f of files) {
      const seg: Segment = { first: f.first, path: f.path, bytes: statSync(f.path).size, last: f.first - 1 };
      const buf = readFileSync(f.path);
      let pendingInSegment = false;
      const valid: [number, number][] = [];
      let torn = 0;
      this.scan(seg.path, buf, 0, true, (r, offset, bytes) => {
        valid.push([offset, offset + bytes]);
        seg.last = Math.max(seg.last, r.seq);
        if (r.seq <= this.committed) return true;
        pendingInSegment = true;
        rec.records++;
        rec.points += r.points.length;
        return true;
      }, (bytes) => {
        torn++;
        rec.tornRecords++;
        rec.tornBytes += bytes;
      });
      maxSeq = Math.max(maxSeq, seg.last);
      if (!pendingInSegment) {
        unlinkSync(seg.path); // everything in it is stored (or it held nothing readable)
        continue;
      }
      if (torn > 0) {
        // Rewrite the segment without the damage, so that later reads need not skip it again.
        const clean = Buffer.concat(valid.map(([a, b]) => buf.subarray(a, b)));
        writeFileSync(`${seg.path}.tmp`, clean);
        renameSync(`${seg.path}.tmp`, seg.path);
        seg.bytes = clean.length;
      }
      this.segments.push(seg);
      this.totalBytes += seg.bytes;
    }
    // The first uncommitted record, found again in the (possibly rewritten) segments.
    for (const seg of this.segments) {
      const buf = readFileSync(seg.path);
      let found: number | undefined;
      this.scan(seg.path, buf, 0, true, (r, offset) => {
        if (r.seq > this.committed) found = offset;
        return found === undefined;
      }, () => {});
      if (found !== undefined) {
        rec.from = { segment: seg.first, offset: found };
        break;
      }
    }
    this.nextSeq = Math.max(maxSeq, files.length > 0 ? (files[files.length - 1] as { first: number }).first - 1 : 0) + 1;
    this.openSegment();
    this.committedPos = rec.from ?? this.tail;
    rec.segments = this.segments.length;
    if (this.opts.fsync === 'interval') {
      this.fsyncTimer = setInterval(() => this.sync(), this.opts.fsyncIntervalMs);
      this.fsyncTimer.unref();
    }
    return rec;
  }

  /**
   * Walks the records of `buf` from `offset`, calling `onRecord` (return false to stop after it) and `onTorn` for each
   * damaged stretch (resynchronised at the next valid record marker). `complete`: `buf` runs to the end of the file,
   * so a record cut short is torn; otherwise the walk stops before it. Returns the offset where the walk stopped.
   */
  private scan(path: string, buf: Buffer, offset: number, complete: boolean, onRecord: (r: SpoolRecord, offset: number, bytes: number) => boolean, onTorn: (bytes: number) => void): number {
    let at = offset;
    for (;;) {
      const d = decodeRecord(buf, at);
      if (d.kind === 'end') return at;
      if (d.kind === 'record') {
        at += d.bytes;
        if (!onRecord(d.record, at - d.bytes, d.bytes)) return at;
        continue;
      }
      if (d.kind === 'short' && !complete) return at;
      // Damaged or cut short: look for the next record that decodes; what lies between is skipped and counted.
      let next = buf.indexOf(MAGIC_BYTES, at + 1);
      while (next !== -1 && decodeRecord(buf, next).kind !== 'record') next = buf.indexOf(MAGIC_BYTES, next + 1);
      const end = next === -1 ? buf.length : next;
      const why = d.kind === 'short' ? 'record cut short (torn write)' : d.why;
      onTorn(end - at);
      this.hooks.tornRecord?.(path, at, end - at, why);
      at = end;
      if (next === -1) return at;
    }
  }

  /** Appends one record synchronously (it is in the OS page cache when this returns); returns where it starts. */
  append(atMs: number, points: Point[]): { seq: number; pos: SpoolPosition; end: SpoolPosition } {
    const seq = this.nextSeq++;
    const json = recordJson(atMs, points);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const bound = HEADER + json.length * 3;
    const buf = bound <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(bound);
    const size = encodeInto(buf, seq, json);
    const active = this.active;
    const pos = { segment: active.first, offset: active.bytes };
    const fd = this.fd as number;
    try {
      // writeSync may write only part of the buffer (a disk filling up: a short write, then ENOSPC) and says so only
      // by its return value: loop, and write at the segment's own byte count so that a failure cannot shift the
      // offsets of later records away from the positions handed out.
      let done = 0;
      while (done < size) {
        const n = writeSync(fd, buf, done, size - done, active.bytes + done);
        if (n <= 0) throw new Error(`spool write made no progress at ${active.path}`);
        done += n;
      }
    } catch (err) {
      // Cut off the partial record so that the segment holds whole records only, and let the caller keep it elsewhere.
      try {
        ftruncateSync(fd, active.bytes);
      } catch {
        // the next open() counts what is left as a torn record
      }
      throw err;
    }
    active.bytes += size;
    active.last = seq;
    this.totalBytes += size;
    if (this.opts.fsync === 'always') fsyncSync(this.fd as number);
    else this.dirty = true;
    const end = { segment: active.first, offset: active.bytes };
    if (active.bytes >= this.opts.segmentBytes) this.rotate();
    return { seq, pos, end };
  }

  /** True when the records not yet stored take `maxBytes` or more. */
  get isFull(): boolean {
    return this.pendingBytes >= this.opts.maxBytes;
  }

  /** Bytes of the records after the committed position: the backlog on disk (stored records still in a segment are not counted). */
  get pendingBytes(): number {
    let bytes = 0;
    for (const seg of this.segments) {
      if (seg.first < this.committedPos.segment) continue;
      bytes += seg.first === this.committedPos.segment ? Math.max(0, seg.bytes - this.committedPos.offset) : seg.bytes;
    }
    return bytes;
  }

  /** Position the next append will get (the read cursor has caught up when it reaches this). */
  get tail(): SpoolPosition {
    return { segment: this.active.first, offset: this.active.bytes };
  }

  /**
   * Reads records from `from`, at most `maxPoints` points in all (but at least one record, however large), until the
   * limit or the tail is reached. A record that would take the total past `maxPoints` is left for the next read (the
   * batcher's `maxBatchPoints` is the largest batch its writer gets, from memory and from here alike).
   * Damaged records are skipped and reported. Returns the records and where the next read starts.
   */
  read(from: SpoolPosition, maxPoints: number): { records: SpoolRecord[]; next: SpoolPosition } {
    const records: SpoolRecord[] = [];
    let points = 0;
    const pos = { ...from };
    for (;;) {
      const segIdx = this.segments.findIndex((s) => s.first === pos.segment);
      if (segIdx === -1) {
        // Its segment is gone (deleted once committed): continue at the oldest remaining one.
        const later = this.segments.find((s) => s.first > pos.segment);
        if (later === undefined) return { records, next: this.tail };
        pos.segment = later.first;
        pos.offset = 0;
        continue;
      }
      const seg = this.segments[segIdx] as Segment;
      if (pos.offset >= seg.bytes) {
        const following = this.segments[segIdx + 1];
        if (following === undefined) return { records, next: pos };
        pos.segment = following.first;
        pos.offset = 0;
        continue;
      }
      const chunk = this.readChunk(seg, pos.offset, READ_CHUNK_BYTES);
      const complete = pos.offset + chunk.length >= seg.bytes;
      let stopBefore: number | undefined;
      const end = this.scan(seg.path, chunk, 0, complete, (r, offset) => {
        if (records.length > 0 && points + r.points.length > maxPoints) {
          stopBefore = offset;
          return false;
        }
        records.push(r);
        points += r.points.length;
        return points < maxPoints;
      }, () => {});
      if (stopBefore !== undefined) {
        pos.offset += stopBefore;
        return { records, next: pos };
      }
      if (end > 0) {
        pos.offset += end;
        if (points >= maxPoints) return { records, next: pos };
        continue;
      }
      // The next record is larger than a chunk: read it whole.
      const len = chunk.readUInt32LE(4);
      const d = decodeRecord(this.readChunk(seg, pos.offset, HEADER + Math.min(len, MAX_RECORD_BYTES)), 0);
      if (d.kind !== 'record') {
        // Checked whole on open and appended by us since: damage after the fact. Skip the rest of the segment.
        this.hooks.tornRecord?.(seg.path, pos.offset, seg.bytes - pos.offset, 'unreadable record');
        pos.offset = seg.bytes;
        continue;
      }
      if (records.length > 0 && points + d.record.points.length > maxPoints) return { records, next: pos };
      records.push(d.record);
      points += d.record.points.length;
      pos.offset += d.bytes;
      if (points >= maxPoints) return { records, next: pos };
    }
  }

  private readChunk(seg: Segment, offset: number, size: number): Buffer {
    if (this.readFd?.segment !== seg.first) {
      this.closeReadFd();
      this.readFd = { segment: seg.first, fd: openSync(seg.path, 'r') };
    }
    const want = Math.max(0, Math.min(size, seg.bytes - offset));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.readFd.fd, buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  }

  /**
   * Every record up to `seq` is stored — `end`, when given, is where the record after it starts: segments wholly at
   * or below it are deleted; the checkpoint moves on.
   */
  commit(seq: number, end?: SpoolPosition): void {
    if (seq <= this.committed) return;
    this.committed = seq;
    if (end !== undefined) this.committedPos = { ...end };
    else if (seq >= this.nextSeq - 1) this.committedPos = this.tail;
    let removed = false;
    // The active segment (last) is never deleted here: appends go to it.
    while (this.segments.length > 1 && (this.segments[0] as Segment).last <= seq) {
      this.removeOldest();
      removed = true;
    }
    // The checkpoint only saves replay work, so it is written when a segment goes and otherwise every 256 commits' worth.
    if (removed || seq - this.checkpointWrittenSeq >= 256) this.writeCheckpoint();
  }

  stats(): SpoolStats {
    return { bytes: this.totalBytes, pendingBytes: this.pendingBytes, segments: this.segments.length, committedSeq: this.committed, nextSeq: this.nextSeq };
  }

  /** fsyncs the active segment if anything was appended since the last sync. */
  sync(): void {
    if (!this.dirty || this.fd === undefined) return;
    this.dirty = false;
    fsyncSync(this.fd);
  }

  /** fsyncs, writes the checkpoint and closes the files; an active segment holding no uncommitted record is deleted. */
  close(): void {
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    this.fsyncTimer = undefined;
    this.closeReadFd();
    if (this.fd === undefined) return;
    this.sync();
    closeSync(this.fd);
    this.fd = undefined;
    this.writeCheckpoint();
    for (const seg of this.segments) if (seg.last <= this.committed || seg.bytes === 0) unlinkSync(seg.path);
    this.segments = [];
    this.totalBytes = 0;
  }

  private removeOldest(): void {
    const seg = this.segments.shift() as Segment;
    if (this.readFd?.segment === seg.first) this.closeReadFd();
    unlinkSync(seg.path);
    this.totalBytes -= seg.bytes;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  private openSegment(): void {
    const first = this.nextSeq;
    const path = join(this.opts.dir, `${String(first).padStart(16, '0')}.seg`);
    // 'w': a leftover file of that name held only records at or below the checkpoint (open() deleted it) or nothing.
    this.fd = openSync(path, 'w');
    this.segments.push({ first, path, bytes: 0, last: first - 1 });
  }

  private rotate(): void {
    if (this.fd !== undefined) {
      if (this.opts.fsync !== 'never') fsyncSync(this.fd);
      closeSync(this.fd);
      this.dirty = false;
    }
    this.openSegment();
  }

  private closeReadFd(): void {
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = undefined;
  }

  private readCheckpoint(): number {
    const path = join(this.opts.dir, CHECKPOINT);
    if (!existsSync(path)) return 0;
    try {
      const j = JSON.parse(readFileSync(path, 'utf8')) as { committed_seq?: unknown };
      return typeof j.committed_seq === 'number' && Number.isFinite(j.committed_seq) ? j.committed_seq : 0;
    } catch {
      return 0; // a torn checkpoint only means a longer replay
    }
  }

  private writeCheckpoint(): void {
    const path = join(this.opts.dir, CHECKPOINT);
    writeFileSync(`${path}.tmp`, JSON.stringify({ committed_seq: this.committed }));
    renameSync(`${path}.tmp`, path);
    this.checkpointWrittenSeq = this.committed;
  }
}
