import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FieldValue } from '../pipeline/reading.js';
import type { Point, PointWriter } from './point.js';

/** Options of the embedded store. */
export interface SqlitePointWriterOptions {
  /** Database file (conventionally under `data/`); parent directories are created. */
  path: string;
}

/** Filter of `SqlitePointWriter.query`; times are epoch ms, both bounds inclusive. */
export interface PointQuery {
  measurement: string;
  tenant?: string;
  device?: string;
  fromMs?: number;
  toMs?: number;
  /** Most points returned, oldest first. Default 10_000. */
  limit?: number;
}

const DEFAULT_QUERY_LIMIT = 10_000;

// The primary key is the point identity, so a re-delivered reading replaces itself instead of duplicating.
// STRICT: a non-integer time would otherwise be stored as text and vanish from every range query.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS points (
  measurement TEXT NOT NULL,
  tenant TEXT NOT NULL,
  device TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  tags TEXT NOT NULL,
  fields TEXT NOT NULL,
  PRIMARY KEY (measurement, tenant, device, time_ms)
) WITHOUT ROWID, STRICT`;

interface Row {
  measurement: string;
  tenant: string;
  device: string;
  time_ms: number;
  tags: string;
  fields: string;
}

/** The embedded default store: one SQLite file (WAL), so the gateway runs with nothing installed. */
export class SqlitePointWriter implements PointWriter {
  readonly name = 'sqlite';
  private db: Database.Database | undefined;
  private insertBatch: ((points: readonly Point[]) => void) | undefined;

  constructor(private readonly opts: SqlitePointWriterOptions) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.opts.path), { recursive: true });
    const db = new Database(this.opts.path);
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL: a power cut may lose the last transactions but never corrupts the file.
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    const insert = db.prepare<[string, string, string, number, string, string]>(
      'INSERT OR REPLACE INTO points (measurement, tenant, device, time_ms, tags, fields) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertBatch = db.transaction((points: readonly Point[]) => {
      for (const p of points) {
        const { tenant = '', device = '', ...rest } = p.tags;
        insert.run(p.measurement, tenant, device, p.timeMs, JSON.stringify(rest), JSON.stringify(p.fields));
      }
    });
    this.db = db;
    this.insertBatch = insertBatch;
  }

  /** One transaction per batch; synchronous underneath (better-sqlite3), so a 5000-point batch holds the event loop for a few ms. */
  async write(points: readonly Point[]): Promise<void> {
    if (this.insertBatch === undefined) throw new Error('sqlite writer is not started');
    this.insertBatch(points);
  }

  async ping(): Promise<boolean> {
    try {
      return this.db?.prepare('SELECT 1').pluck().get() === 1;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.insertBatch = undefined;
  }

  /** Points of one measurement, oldest first, for the API and tests. */
  query(q: PointQuery): Point[] {
    const db = this.requireDb();
    const where = ['measurement = ?'];
    const args: (string | number)[] = [q.measurement];
    if (q.tenant !== undefined) {
      where.push('tenant = ?');
      args.push(q.tenant);
    }
    if (q.device !== undefined) {
      where.push('device = ?');
      args.push(q.device);
    }
    if (q.fromMs !== undefined) {
      where.push('time_ms >= ?');
      args.push(q.fromMs);
    }
    if (q.toMs !== undefined) {
      where.push('time_ms <= ?');
      args.push(q.toMs);
    }
    args.push(q.limit ?? DEFAULT_QUERY_LIMIT);
    const rows = db
      .prepare<(string | number)[], Row>(`SELECT * FROM points WHERE ${where.join(' AND ')} ORDER BY time_ms, tenant, device LIMIT ?`)
      .all(...args);
    return rows.map(toPoint);
  }

  /** Number of stored points, of one measurement or of all. */
  count(measurement?: string): number {
    const db = this.requireDb();
    if (measurement === undefined) return db.prepare<[], number>('SELECT count(*) FROM points').pluck().get() ?? 0;
    return db.prepare<[string], number>('SELECT count(*) FROM points WHERE measurement = ?').pluck().get(measurement) ?? 0;
  }

  private requireDb(): Database.Database {
    if (this.db === undefined) throw new Error('sqlite writer is not started');
    return this.db;
  }
}

function toPoint(row: Row): Point {
  const rest = JSON.parse(row.tags) as Record<string, string>;
  return {
    measurement: row.measurement,
    tags: { ...rest, tenant: row.tenant, device: row.device },
    fields: JSON.parse(row.fields) as Record<string, FieldValue>,
    timeMs: row.time_ms,
  };
}
