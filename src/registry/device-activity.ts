import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';
import type { ReadingSink } from '../pipeline/pipeline.js';
import type { Reading } from '../pipeline/reading.js';
import { BucketCounts, type Counts } from './bucket-counts.js';
import { DeviceMap } from './device-map.js';
import type { Device } from './device-registry.js';

/** Activity bookkeeping options. */
export interface DeviceActivityOptions {
  /** Width of one received-readings bucket, ms; stats windows are aligned to it. Default 900 000 (15 min). */
  bucketMs: number;
  /** How far back received counts are kept: the longest stats window, ms. Default 604 800 000 (7 days). */
  retentionMs: number;
  /** How often changed activity is written to SQLite, ms (a crash loses at most this much). Default 300 000 (5 min). */
  persistIntervalMs: number;
}

export const DEFAULT_DEVICE_ACTIVITY_OPTIONS: DeviceActivityOptions = {
  bucketMs: 900_000,
  retentionMs: 7 * 86_400_000,
  persistIntervalMs: 300_000,
};

/** A device's activity; its counts (slot of bucket b is b % slots) in src/registry/bucket-counts.ts. */
interface Entry extends Counts {
  /** Gateway time of the latest reading, epoch ms. */
  lastSeenAt: number;
  /** Index (epoch ms / bucketMs) of the newest bucket written; slot of bucket b is b % slots. */
  head: number;
  dirty: boolean;
}

export interface DeviceActivityContext {
  clock: Clock;
  /** Where activity is persisted across restarts; without it activity lives in memory only (unit tests). */
  db?: SqliteDb;
  logger?: Logger;
  options?: Partial<DeviceActivityOptions>;
}

const MIGRATIONS = [
  `CREATE TABLE device_activity (
     tenant TEXT NOT NULL,
     device_id TEXT NOT NULL,
     last_seen_at INTEGER NOT NULL,
     head INTEGER NOT NULL,
     bucket_ms INTEGER NOT NULL,
     counts BLOB NOT NULL,
     PRIMARY KEY (tenant, device_id)
   ) WITHOUT ROWID`,
];

/**
 * Per-device last-seen time and received-reading counts in time buckets, for the online rate (上线率) and data
 * completeness (domain.md §5.9 T12). A pipeline sink: `accept()` is O(1) and allocation-free after a device's first
 * reading (½ to 2 bytes × retention / bucket per reporting device, by how many readings a bucket holds: 0.3–1.3 KB
 * at the defaults). Readings are counted in the bucket of their device time, so a buffered upload fills the period it belongs to; last-seen is gateway time, as the
 * offline rule counts it.
 */
export class DeviceActivity implements ReadingSink {
  private readonly ctx: DeviceActivityContext;
  readonly options: DeviceActivityOptions;
  private readonly slots: number;
  private readonly byDevice = new DeviceMap<Entry>();
  private readonly counts: BucketCounts;
  /** Reused to write counts in the stored (Uint16) form. */
  private readonly wideScratch: Uint16Array;
  private timer?: NodeJS.Timeout;

  constructor(ctx: DeviceActivityContext) {
    this.ctx = ctx;
    this.options = { ...DEFAULT_DEVICE_ACTIVITY_OPTIONS, ...ctx.options };
    this.slots = Math.ceil(this.options.retentionMs / this.options.bucketMs) + 1;
    this.counts = new BucketCounts(this.slots);
    this.wideScratch = new Uint16Array(this.slots);
  }

  /** Restores persisted activity (when a db is given) and starts the persist timer unless `timers: false`. */
  start(opts: { timers?: boolean } = {}): void {
    const db = this.ctx.db;
    if (db) {
      migrate(db, 'device_activity', MIGRATIONS);
      const rows = db.prepare('SELECT tenant, device_id, last_seen_at, head, bucket_ms, counts FROM device_activity').all() as {
        tenant: string;
        device_id: string;
        last_seen_at: number;
        head: number;
        bucket_ms: number;
        counts: Buffer;
      }[];
      for (const r of rows) {
        // Counts kept under another bucket width or retention cannot be re-bucketed: keep last-seen only.
        const fits = r.bucket_ms === this.options.bucketMs && r.counts.byteLength === this.slots * 2;
        const counts = fits ? this.counts.fromUint16(new Uint16Array(r.counts.buffer.slice(r.counts.byteOffset, r.counts.byteOffset + r.counts.byteLength))) : this.counts.allocate();
        this.byDevice.set(r.tenant, r.device_id, this.newEntry(r.last_seen_at, r.head, counts));
      }
      this.ctx.logger?.info({ devices: rows.length }, 'device activity restored');
      if (opts.timers ?? true) {
        this.timer = setInterval(() => this.persist(), this.options.persistIntervalMs);
        this.timer.unref();
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.persist();
  }

  accept(reading: Reading, device?: Device): void {
    // A device time ahead of the gateway (allowed within INGEST_MAX_FUTURE_MS) counts now.
    const b = Math.floor(Math.min(reading.ts, reading.receivedAt) / this.options.bucketMs);
    // The registry record's strings, when given, are kept as keys (shared with the record, issue 9).
    const tenant = device?.tenant ?? reading.tenant;
    const deviceId = device?.deviceId ?? reading.deviceId;
    let e = this.byDevice.get(tenant, deviceId);
    if (!e) {
      e = this.newEntry(reading.receivedAt, b, this.counts.allocate());
      this.byDevice.set(tenant, deviceId, e);
    }
    if (reading.receivedAt > e.lastSeenAt) e.lastSeenAt = reading.receivedAt;
    e.dirty = true;
    if (b > e.head) {
      // Buckets between the old head and this one saw nothing: clear their slots (they held data from a lap ago).
      for (let i = Math.max(e.head + 1, b - this.slots + 1); i <= b; i++) this.counts.set(e, i % this.slots, 0);
      e.head = b;
    } else if (b <= e.head - this.slots) {
      return; // older than the retention: nothing to count it in
    }
    this.counts.increment(e, b % this.slots);
  }

  /** Gateway time of the device's latest reading, epoch ms; undefined when none since activity began. */
  lastSeen(tenant: string, deviceId: string): number | undefined {
    return this.byDevice.get(tenant, deviceId)?.lastSeenAt;
  }

  /** Start of the bucket that contains `ms`: a stats window starts there so counts and expectations cover one span. */
  bucketStart(ms: number): number {
    return Math.floor(ms / this.options.bucketMs) * this.options.bucketMs;
  }

  /** Readings with device time in the buckets from the one containing `fromMs` to the one containing `toMs`. */
  received(tenant: string, deviceId: string, fromMs: number, toMs: number): number {
    const e = this.byDevice.get(tenant, deviceId);
    if (!e) return 0;
    const from = Math.max(Math.floor(fromMs / this.options.bucketMs), e.head - this.slots + 1);
    const to = Math.min(Math.floor(toMs / this.options.bucketMs), e.head);
    let n = 0;
    for (let b = from; b <= to; b++) n += this.counts.get(e, b % this.slots);
    return n;
  }

  /** Drops a device's activity (it was deleted from the registry). */
  forget(tenant: string, deviceId: string): void {
    const e = this.byDevice.get(tenant, deviceId);
    if (!e) return;
    this.byDevice.delete(tenant, deviceId);
    this.counts.release(e);
    this.ctx.db?.prepare('DELETE FROM device_activity WHERE tenant = ? AND device_id = ?').run(tenant, deviceId);
  }

  get size(): number {
    return this.byDevice.size;
  }

  /** Writes changed entries to SQLite in one transaction. Public so tests and shutdown can force it. */
  persist(): void {
    const db = this.ctx.db;
    if (!db?.open) return;
    const stmt = db.prepare(
      `INSERT INTO device_activity (tenant, device_id, last_seen_at, head, bucket_ms, counts) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, device_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, head = excluded.head,
         bucket_ms = excluded.bucket_ms, counts = excluded.counts`,
    );
    let n = 0;
    db.transaction(() => {
      for (const [tenant, deviceId, e] of this.byDevice.entries()) {
        if (!e.dirty) continue;
        // Stored as Uint16 whatever the width in memory (the column's format since migration 1).
        const wide = this.counts.toUint16(e, this.wideScratch);
        stmt.run(tenant, deviceId, e.lastSeenAt, e.head, this.options.bucketMs, Buffer.from(wide.buffer, wide.byteOffset, wide.byteLength));
        e.dirty = false;
        n++;
      }
    })();
    if (n > 0) this.ctx.logger?.debug({ devices: n }, 'device activity persisted');
  }

  private newEntry(lastSeenAt: number, head: number, counts: Counts): Entry {
    return { lastSeenAt, head, dirty: false, slab: counts.slab, at: counts.at, bits: counts.bits };
  }
}

