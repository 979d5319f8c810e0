// Alert events in the time-series store (src/storage/alert-event-export.ts): the source of the dashboards' annotations.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AlertEvent } from '../../../src/alerts/alert.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import type { Logger } from '../../../src/lib/logger.js';
import type { GatewayEvents } from '../../../src/pipeline/events.js';
import { ALERT_EVENTS_MEASUREMENT, AlertEventExporter, alertEventToPoint } from '../../../src/storage/alert-event-export.js';
import type { Point, PointWriter } from '../../../src/storage/point.js';
import { SAMPLE_RAISED_AT, sampleAlert } from '../../fixtures/alerts.js';

function event(over: Partial<AlertEvent> = {}): AlertEvent {
  return { seq: 41, type: 'raised', alert_id: 12, at: SAMPLE_RAISED_AT + 1_000, actor: 'system', note: null, alert: sampleAlert(), ...over };
}

describe('alertEventToPoint', () => {
  it('writes one point per transition at its gateway time, tagged for filtering and annotation text', () => {
    expect(alertEventToPoint(event())).toEqual({
      measurement: ALERT_EVENTS_MEASUREMENT,
      tags: { tenant: 'acme', device: 'gas-001', region: '510104', site: 's1', kind: 'gas', rule: 'gas.lel', level: '2', event: 'raised', title: '可燃气体浓度二级报警', actor: 'system' },
      fields: { seq: 41, alert_id: 12, count: 3, value: 27.5, historical: false },
      timeMs: SAMPLE_RAISED_AT + 1_000,
    });
  });

  it('leaves out what the alert does not have (InfluxDB refuses empty tag values)', () => {
    const p = alertEventToPoint(event({ type: 'acknowledged', actor: 'duty-officer', alert: sampleAlert({ region: null, site: null, last_value: null, kind: 'gateway', tenant: '_gateway', device_id: 'ingest' }) }));
    expect(p.tags).not.toHaveProperty('region');
    expect(p.tags).not.toHaveProperty('site');
    expect(p.fields).not.toHaveProperty('value');
    expect(p.tags).toMatchObject({ kind: 'gateway', event: 'acknowledged', actor: 'duty-officer' });
    expect(Object.values(p.tags).every((v) => v !== '')).toBe(true);
  });

  it('keeps every field type stable (numbers as numbers, historical as a boolean)', () => {
    const p = alertEventToPoint(event({ alert: sampleAlert({ historical: true }) }));
    expect(typeof p.fields.historical).toBe('boolean');
    for (const k of ['seq', 'alert_id', 'count', 'value']) expect(typeof p.fields[k], k).toBe('number');
  });
});

/** A PointWriter that records batches and fails while `down`. */
class FakeWriter implements PointWriter {
  readonly name = 'fake';
  batches: Point[][] = [];
  down = false;
  started = 0;
  stopped = 0;
  async start(): Promise<void> {
    this.started++;
  }
  async write(points: readonly Point[]): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    this.batches.push([...points]);
  }
  async ping(): Promise<boolean> {
    return !this.down;
  }
  async stop(): Promise<void> {
    this.stopped++;
  }
  seqs(): number[] {
    return this.batches.flat().map((p) => p.fields.seq as number);
  }
}

describe('AlertEventExporter', () => {
  let dir: string;
  let cursorFile: string;
  let stored: AlertEvent[];
  let bus: EventBus<GatewayEvents>;
  let writer: FakeWriter;
  let logger: { warn: ReturnType<typeof vi.fn>; info: ReturnType<typeof vi.fn> };
  const exporters: AlertEventExporter[] = [];

  /** Stores an event (as AlertService does) and emits it. */
  const record = (seq: number): void => {
    const ev = event({ seq, at: SAMPLE_RAISED_AT + seq * 1000 });
    stored.push(ev);
    bus.emit('alertEvent', ev);
  };
  const exporter = (over: { pageSize?: number } = {}): AlertEventExporter => {
    const events = { eventsSince: (seq: number, limit: number) => stored.filter((e) => e.seq > seq).slice(0, limit) };
    const x = new AlertEventExporter({ writer, events, bus, cursorFile, logger: logger as unknown as Logger, debounceMs: 5, retryMs: 20, ...over });
    exporters.push(x);
    return x;
  };
  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(cond()).toBe(true);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rg-alert-export-'));
    cursorFile = join(dir, 'alert-events-exported.json');
    stored = [];
    bus = new EventBus<GatewayEvents>();
    writer = new FakeWriter();
    logger = { warn: vi.fn(), info: vi.fn() };
  });
  afterEach(async () => {
    for (const x of exporters.splice(0)) await x.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the existing history at start, then each new event, and keeps its place in the cursor file', async () => {
    for (const seq of [1, 2, 3]) stored.push(event({ seq }));
    const x = exporter();
    await x.start();
    await until(() => x.exportedSeq === 3);
    expect(writer.batches).toHaveLength(1); // the backlog in one write
    expect(JSON.parse(readFileSync(cursorFile, 'utf8'))).toEqual({ seq: 3 });
    record(4);
    record(5);
    await until(() => x.exportedSeq === 5);
    expect(writer.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(writer.batches.flat().every((p) => p.measurement === ALERT_EVENTS_MEASUREMENT)).toBe(true);
  });

  it('after a restart, continues from the cursor: events of the stop are exported, none twice', async () => {
    const first = exporter();
    await first.start();
    record(1);
    await until(() => first.exportedSeq === 1);
    await first.stop();
    expect(writer.stopped).toBe(1);
    record(2); // while stopped: not listened to
    record(3);
    const second = exporter();
    await second.start();
    await until(() => second.exportedSeq === 3);
    expect(writer.seqs()).toEqual([1, 2, 3]);
  });

  it('keeps the events while the store is down and writes them when it is back, warning once', async () => {
    const x = exporter();
    await x.start();
    writer.down = true;
    record(1);
    record(2);
    await until(() => logger.warn.mock.calls.length > 0);
    await new Promise((r) => setTimeout(r, 60)); // several retries
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(x.exportedSeq).toBe(0);
    writer.down = false;
    await until(() => x.exportedSeq === 2);
    expect(writer.seqs()).toEqual([1, 2]);
    expect(logger.info).toHaveBeenCalledTimes(1);
  });

  it('writes a long backlog in pages', async () => {
    for (let seq = 1; seq <= 5; seq++) stored.push(event({ seq }));
    const x = exporter({ pageSize: 2 });
    await x.start();
    await until(() => x.exportedSeq === 5);
    expect(writer.batches.map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it('starts from 0 when the cursor file is unreadable (rewriting a point overwrites it)', async () => {
    writeFileSync(cursorFile, 'not json');
    stored.push(event({ seq: 1 }));
    const x = exporter();
    await x.start();
    await until(() => x.exportedSeq === 1);
  });
});
