import { migrate, type SqliteDb } from '../lib/sqlite.js';
import type { Alert, AlertEvent, AlertEventType } from './alert.js';

/** A silence / maintenance window: alerts raised inside it that match every given scope field are silenced. */
export interface Silence {
  id: number;
  tenant: string | null;
  device_id: string | null;
  site: string | null;
  rule_id: string | null;
  /** Gateway time, epoch ms. */
  starts_at: number;
  ends_at: number;
  reason: string;
  created_by: string;
  created_at: number;
  cancelled_by: string | null;
  cancelled_at: number | null;
}

const MIGRATIONS = [
  `CREATE TABLE alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     tenant TEXT NOT NULL,
     device_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     rule_id TEXT NOT NULL,
     rule_type TEXT NOT NULL,
     title TEXT NOT NULL,
     level INTEGER NOT NULL,
     standard TEXT NOT NULL,
     condition TEXT NOT NULL,
     handling TEXT NOT NULL,
     count INTEGER NOT NULL,
     first_value REAL,
     last_value REAL,
     peak_value REAL,
     raised_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL,
     cleared_at INTEGER,
     updated_at INTEGER NOT NULL,
     region TEXT,
     site TEXT,
     historical INTEGER NOT NULL DEFAULT 0
   );
   -- One open alert per (device, rule), enforced by the database itself.
   CREATE UNIQUE INDEX alerts_one_open ON alerts (tenant, device_id, rule_id) WHERE handling <> 'closed';
   CREATE INDEX alerts_by_time ON alerts (updated_at);
   CREATE TABLE alert_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     alert_id INTEGER NOT NULL REFERENCES alerts (id),
     type TEXT NOT NULL,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     note TEXT,
     alert TEXT NOT NULL
   );
   CREATE INDEX alert_events_by_alert ON alert_events (alert_id, seq);`,
  // Issue 3: lifecycle, noise control, escalation; historical alerts live beside the live one of a (device, rule).
  `ALTER TABLE alerts ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE alerts ADD COLUMN silenced INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE alerts ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE alerts ADD COLUMN escalations INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT;
   ALTER TABLE alerts ADD COLUMN acknowledged_at INTEGER;
   ALTER TABLE alerts ADD COLUMN assignee TEXT;
   ALTER TABLE alerts ADD COLUMN closed_by TEXT;
   ALTER TABLE alerts ADD COLUMN closed_at INTEGER;
   ALTER TABLE alerts ADD COLUMN disposition TEXT;
   DROP INDEX alerts_one_open;
   CREATE UNIQUE INDEX alerts_one_open ON alerts (tenant, device_id, rule_id, historical) WHERE handling <> 'closed';
   CREATE TABLE silences (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     tenant TEXT,
     device_id TEXT,
     site TEXT,
     rule_id TEXT,
     starts_at INTEGER NOT NULL,
     ends_at INTEGER NOT NULL,
     reason TEXT NOT NULL,
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     cancelled_by TEXT,
     cancelled_at INTEGER
   );`,
];

type AlertRow = Omit<Alert, 'historical' | 'silenced' | 'flapping'> & { historical: number; silenced: number; flapping: number };
interface EventRow {
  seq: number;
  alert_id: number;
  type: AlertEventType;
  at: number;
  actor: string;
  note: string | null;
  alert: string;
}

const COLUMNS = [
  'tenant', 'device_id', 'kind', 'rule_id', 'rule_type', 'title', 'level', 'standard', 'condition', 'handling', 'count',
  'first_value', 'last_value', 'peak_value', 'raised_at', 'last_at', 'cleared_at', 'updated_at', 'region', 'site', 'historical',
  'created_at', 'silenced', 'flapping', 'escalations', 'acknowledged_by', 'acknowledged_at', 'assignee', 'closed_by', 'closed_at',
  'disposition',
] as const;

/** Filters of GET /api/v1/alerts. */
export interface AlertQuery {
  tenant?: string;
  deviceId?: string;
  kind?: string;
  level?: number;
  condition?: string;
  handling?: string;
  /** Only alerts not closed. */
  open?: boolean;
  limit?: number;
  /** Alerts with id below this (paging, newest first). */
  beforeId?: number;
  /** Only alerts of this tenant (enterprise scope). */
  scopeTenant?: string;
  /** Only alerts whose region starts with one of these (operator scope); gateway alerts are included. */
  scopeRegions?: string[];
}

/** Durable alerts and their events, in the state SQLite file. Writes are synchronous (better-sqlite3). */
export class AlertStore {
  private readonly db: SqliteDb;
  private stmts!: {
    insert: import('better-sqlite3').Statement;
    update: import('better-sqlite3').Statement;
    event: import('better-sqlite3').Statement;
    since: import('better-sqlite3').Statement;
    byId: import('better-sqlite3').Statement;
    events: import('better-sqlite3').Statement;
  };

  constructor(db: SqliteDb) {
    this.db = db;
  }

  start(): void {
    migrate(this.db, 'alerts', MIGRATIONS);
    this.stmts = {
      insert: this.db.prepare(`INSERT INTO alerts (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`),
      update: this.db.prepare(`UPDATE alerts SET ${COLUMNS.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`),
      event: this.db.prepare('INSERT INTO alert_events (alert_id, type, at, actor, note, alert) VALUES (?, ?, ?, ?, ?, ?)'),
      since: this.db.prepare('SELECT * FROM alert_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      byId: this.db.prepare('SELECT * FROM alerts WHERE id = ?'),
      events: this.db.prepare('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY seq'),
    };
  }

  /** Every alert not closed (loaded into memory at start). */
  openAlerts(): Alert[] {
    return (this.db.prepare("SELECT * FROM alerts WHERE handling <> 'closed'").all() as AlertRow[]).map(fromRow);
  }

  /** Live alerts that are the latest of their (device, rule) and were closed while their condition was active. */
  latestClosedActive(): Alert[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM alerts a WHERE handling = 'closed' AND condition = 'active' AND historical = 0
             AND id = (SELECT MAX(id) FROM alerts b WHERE b.tenant = a.tenant AND b.device_id = a.device_id AND b.rule_id = a.rule_id AND b.historical = 0)`,
        )
        .all() as AlertRow[]
    ).map(fromRow);
  }

  /** Inserts a new alert and its first event atomically; returns the event. */
  insertWithEvent(alert: Omit<Alert, 'id'>, type: AlertEventType, actor: string, note: string | null): AlertEvent {
    return this.db.transaction(() => {
      const info = this.stmts.insert.run(toRow(alert));
      const full: Alert = { ...alert, id: Number(info.lastInsertRowid) };
      return this.appendEvent(full, type, actor, note);
    })();
  }

  /** Saves the alert's new state; with an event type, records the transition in the same transaction. */
  update(alert: Alert, event?: { type: AlertEventType; actor: string; note: string | null }): AlertEvent | undefined {
    return this.db.transaction(() => {
      this.stmts.update.run({ ...toRow(alert), id: alert.id });
      return event ? this.appendEvent(alert, event.type, event.actor, event.note) : undefined;
    })();
  }

  private appendEvent(alert: Alert, type: AlertEventType, actor: string, note: string | null): AlertEvent {
    const info = this.stmts.event.run(alert.id, type, alert.updated_at, actor, note, JSON.stringify(alert));
    return { seq: Number(info.lastInsertRowid), type, alert_id: alert.id, at: alert.updated_at, actor, note, alert: { ...alert } };
  }

  /** Events with seq > `seq`, oldest first, at most `limit`. */
  eventsSince(seq: number, limit: number): AlertEvent[] {
    return (this.stmts.since.all(seq, limit) as EventRow[]).map(eventFromRow);
  }

  eventsOf(alertId: number): AlertEvent[] {
    return (this.stmts.events.all(alertId) as EventRow[]).map(eventFromRow);
  }

  get(id: number): Alert | undefined {
    const row = this.stmts.byId.get(id) as AlertRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  insertSilence(s: Omit<Silence, 'id' | 'cancelled_by' | 'cancelled_at'>): Silence {
    const info = this.db
      .prepare('INSERT INTO silences (tenant, device_id, site, rule_id, starts_at, ends_at, reason, created_by, created_at) VALUES (@tenant, @device_id, @site, @rule_id, @starts_at, @ends_at, @reason, @created_by, @created_at)')
      .run(s);
    return { ...s, id: Number(info.lastInsertRowid), cancelled_by: null, cancelled_at: null };
  }

  cancelSilence(id: number, actor: string, at: number): Silence | undefined {
    this.db.prepare('UPDATE silences SET cancelled_by = ?, cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL').run(actor, at, id);
    return this.db.prepare('SELECT * FROM silences WHERE id = ?').get(id) as Silence | undefined;
  }

  /** Silences not cancelled that end after `now` (current and future). */
  silences(opts: { activeAt?: number; all?: boolean; limit?: number } = {}): Silence[] {
    if (opts.all) return this.db.prepare('SELECT * FROM silences ORDER BY id DESC LIMIT ?').all(opts.limit ?? 500) as Silence[];
    return this.db.prepare('SELECT * FROM silences WHERE cancelled_at IS NULL AND ends_at > ? ORDER BY id').all(opts.activeAt ?? 0) as Silence[];
  }

  lastSeq(): number {
    const row = this.db.prepare('SELECT MAX(seq) AS s FROM alert_events').get() as { s: number | null };
    return row.s ?? 0;
  }

  query(q: AlertQuery): Alert[] {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    const filters: [string, unknown][] = [
      ['tenant', q.tenant],
      ['device_id', q.deviceId],
      ['kind', q.kind],
      ['level', q.level],
      ['condition', q.condition],
      ['handling', q.handling],
    ];
    for (const [column, value] of filters) {
      if (value === undefined || value === '') continue;
      where.push(`${column} = @${column}`);
      args[column] = value;
    }
    if (q.open) where.push("handling <> 'closed'");
    if (q.scopeTenant !== undefined) {
      where.push("tenant = @scopeTenant AND kind <> 'gateway'");
      args.scopeTenant = q.scopeTenant;
    }
    if (q.scopeRegions !== undefined) {
      const ors = q.scopeRegions.map((r, i) => {
        args[`scopeRegion${i}`] = `${r}%`;
        return `region LIKE @scopeRegion${i}`;
      });
      where.push(`(${[...ors, "kind = 'gateway'"].join(' OR ')})`);
    }
    if (q.beforeId) {
      where.push('id < @beforeId');
      args.beforeId = q.beforeId;
    }
    args.limit = q.limit ?? 100;
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(args) as AlertRow[]).map(fromRow);
  }
}

function toRow(a: Omit<Alert, 'id'>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const c of COLUMNS) row[c] = a[c];
  row.historical = a.historical ? 1 : 0;
  row.silenced = a.silenced ? 1 : 0;
  row.flapping = a.flapping ? 1 : 0;
  return row;
}

function fromRow(r: AlertRow): Alert {
  return { ...r, historical: r.historical === 1, silenced: r.silenced === 1, flapping: r.flapping === 1 };
}

function eventFromRow(r: EventRow): AlertEvent {
  return { seq: r.seq, type: r.type, alert_id: r.alert_id, at: r.at, actor: r.actor, note: r.note, alert: JSON.parse(r.alert) as Alert };
}
