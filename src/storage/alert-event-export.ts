import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AlertEvent } from '../alerts/alert.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { GatewayEvents } from '../pipeline/events.js';
import type { FieldValue } from '../pipeline/reading.js';
import type { Point, PointWriter } from './point.js';

/** Measurement of alert events in the time-series store; the Grafana dashboards annotate from it (grafana/). */
export const ALERT_EVENTS_MEASUREMENT = 'alert_events';

/**
 * The stored form of an alert event: one point per transition, at its gateway time (`at`).
 *
 * Tags (strings; a missing region/site is left out, as for readings): `tenant`, `device`, `region`, `site`, `kind`
 * (`gas` … or `gateway`), `rule`, `level` (`1`–`4`), `event` (`raised`, `cleared`, `acknowledged`, …), `title`
 * (the alert's Chinese title), `actor` (`system` or the token name).
 * Fields: `seq`, `alert_id`, `count`, `value` (the alert's last value, when it has one), `historical`.
 * Numbers are floats and `historical` a boolean, as for readings, so a field's type never changes between points.
 */
export function alertEventToPoint(ev: AlertEvent): Point {
  const a = ev.alert;
  const tags: Record<string, string> = {
    tenant: a.tenant,
    device: a.device_id,
    kind: a.kind,
    rule: a.rule_id,
    level: String(a.level),
    event: ev.type,
    title: a.title,
    actor: ev.actor,
  };
  if (a.region) tags.region = a.region;
  if (a.site) tags.site = a.site;
  const fields: Record<string, FieldValue> = { seq: ev.seq, alert_id: ev.alert_id, count: a.count, historical: a.historical };
  if (a.last_value !== null) fields.value = a.last_value;
  return { measurement: ALERT_EVENTS_MEASUREMENT, tags, fields, timeMs: ev.at };
}

export interface AlertEventExporterOptions {
  /** Its own writer to the gateway's InfluxDB (not the readings' batcher: the readings' metrics count readings only). */
  writer: PointWriter;
  /** Where the events are read from, in seq order: the AlertStore (SQLite), which stays the record. */
  events: { eventsSince(seq: number, limit: number): AlertEvent[] };
  /** New events are exported shortly after they are emitted here. */
  bus: EventBus<GatewayEvents>;
  /** JSON file holding the seq of the last event written (`{"seq":N}`); created when missing. */
  cursorFile: string;
  logger: Logger;
  /** Events per write. Default 1000. */
  pageSize?: number;
  /** Wait after an event before writing, so that a burst is one write, ms. Default 200. */
  debounceMs?: number;
  /** Wait before trying again after a failed write, ms. Default 5000. */
  retryMs?: number;
  /** Longest wait in stop() for a write in flight, ms. Default 3000. */
  stopTimeoutMs?: number;
}

/**
 * Copies alert events into the time-series store as measurement `alert_events`, for the Grafana annotations. It
 * follows the AlertStore by seq with a cursor kept in a file, so nothing is lost while InfluxDB is away or the gateway
 * is stopped (it catches up from the cursor, and on its first start exports the existing history). A point is
 * identified by its tags and time, so writing an event again after a crash overwrites it instead of doubling it.
 */
export class AlertEventExporter {
  private readonly opts: Required<Omit<AlertEventExporterOptions, 'writer' | 'events' | 'bus' | 'cursorFile' | 'logger'>>;
  private cursor = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failing = false;
  private stopped = true;

  constructor(private readonly ctx: AlertEventExporterOptions) {
    this.opts = { pageSize: ctx.pageSize ?? 1000, debounceMs: ctx.debounceMs ?? 200, retryMs: ctx.retryMs ?? 5000, stopTimeoutMs: ctx.stopTimeoutMs ?? 3000 };
  }

  /** Seq of the last event written. */
  get exportedSeq(): number {
    return this.cursor;
  }

  /** Connects its writer, reads the cursor, and starts exporting (the backlog first). */
  async start(): Promise<void> {
    await this.ctx.writer.start();
    this.cursor = readCursor(this.ctx.cursorFile);
    this.stopped = false;
    this.ctx.bus.on('alertEvent', this, () => this.schedule(this.opts.debounceMs));
    this.schedule(0);
  }

  /** Writes every event after the cursor; resolves when done or when a write failed (retried later). */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.schedule(0);
      }
    });
    return this.running;
  }

  /** Stops listening and waits (at most stopTimeoutMs) for a write in flight; what is left goes at the next start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.bus.removeOwner(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) {
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.running, new Promise<void>((r) => (t = setTimeout(r, this.opts.stopTimeoutMs)))]);
      clearTimeout(t);
    }
    await this.ctx.writer.stop();
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref?.();
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const events = this.ctx.events.eventsSince(this.cursor, this.opts.pageSize);
      if (events.length === 0) break;
      try {
        await this.ctx.writer.write(events.map(alertEventToPoint));
      } catch (err) {
        if (!this.failing) this.ctx.logger.warn({ err: (err as Error).message, fromSeq: this.cursor + 1 }, 'alert events not written to the time-series store; retrying');
        this.failing = true;
        this.schedule(this.opts.retryMs);
        return;
      }
      if (this.failing) this.ctx.logger.info({ fromSeq: this.cursor + 1 }, 'alert events written to the time-series store again');
      this.failing = false;
      this.cursor = (events[events.length - 1] as AlertEvent).seq;
      writeCursor(this.ctx.cursorFile, this.cursor);
      if (events.length < this.opts.pageSize) break;
    }
  }
}

function readCursor(file: string): number {
  if (!existsSync(file)) return 0;
  try {
    const seq = (JSON.parse(readFileSync(file, 'utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : 0;
  } catch {
    return 0; // unreadable: export everything again (points overwrite themselves)
  }
}

function writeCursor(file: string, seq: number): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ seq })}\n`);
  renameSync(tmp, file);
}
