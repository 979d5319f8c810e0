import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { AlertEvent, AlertEventType } from '../../../src/alerts/alert.js';
import { AlertService } from '../../../src/alerts/alert-service.js';
import { AlertStore } from '../../../src/alerts/alert-store.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/event-bus.js';
import { createMetrics } from '../../../src/lib/metrics.js';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import type { GatewayEvents } from '../../../src/pipeline/events.js';
import type { FieldValue, Reading } from '../../../src/pipeline/reading.js';
import { pino } from 'pino';
import { DeviceRegistry } from '../../../src/registry/device-registry.js';
import { RuleEngine } from '../../../src/rules/engine.js';
import { loadRules, type RuleSet } from '../../../src/rules/loader.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);
const STEP_MS = 60_000;

function shippedRules(): RuleSet {
  const res = loadRules(join(ROOT, 'alert-rules'), ROOT);
  if (!res.ok) throw new Error('shipped alert-rules are invalid');
  return res.rules;
}

/** The services of one gateway process over one SQLite file; `close()` is the process going away. */
interface Gateway {
  db: SqliteDb;
  store: AlertStore;
  engine: RuleEngine;
  /** Alert events in the order the bus published them. */
  published: AlertEvent[];
  /** Feeds one gas reading at device time T0 + i minutes (the gateway clock moves with it). */
  gas(i: number, fields: Record<string, FieldValue>, deviceId?: string): void;
  close(): void;
}

let dir: string;
let open: Gateway[] = [];

function startGateway(clock: FakeClock, rules: RuleSet): Gateway {
  const db = openSqlite(join(dir, 'riskgate.db'));
  const store = new AlertStore(db);
  store.start();
  const bus = new EventBus<GatewayEvents>((_e, err) => {
    throw err;
  });
  const published: AlertEvent[] = [];
  bus.on('alertEvent', published, (ev) => published.push(ev));
  const alerts = new AlertService({ store, bus, clock, metrics: createMetrics({ defaultMetrics: false }) });
  alerts.start();
  const registry = new DeviceRegistry(db);
  registry.start();
  registry.upsert(['gas-001', 'gas-002'].map((deviceId) => ({ tenant: 'acme', deviceId, kind: 'gas' as const, region: 'r1', site: 's1', heartbeatS: 60, attrs: {} })));
  const engine = new RuleEngine({ rules, alerts, registry, clock, logger: pino({ level: 'silent' }), db });
  engine.start({ timers: false });
  const gw: Gateway = {
    db,
    store,
    engine,
    published,
    gas(i, fields, deviceId = 'gas-001') {
      const ts = T0 + i * STEP_MS;
      clock.set(ts + 500);
      const reading: Reading = { tenant: 'acme', deviceId, kind: 'gas', channel: 'telemetry', ts, receivedAt: ts + 500, fields, tags: { region: 'r1', site: 's1' } };
      engine.accept(reading);
    },
    close() {
      engine.stop();
      if (db.open) db.close();
    },
  };
  open.push(gw);
  return gw;
}

const types = (events: AlertEvent[]): AlertEventType[] => events.map((e) => e.type);

function expectIncreasingSeq(events: AlertEvent[]): void {
  for (let i = 1; i < events.length; i++) expect((events[i] as AlertEvent).seq).toBeGreaterThan((events[i - 1] as AlertEvent).seq);
}

describe('alerts/alert-service', () => {
  let clock: FakeClock;
  let rules: RuleSet;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rg-alerts-'));
    clock = new FakeClock(T0);
    rules = shippedRules();
  });

  afterEach(() => {
    for (const gw of open) gw.close();
    open = [];
    rmSync(dir, { recursive: true, force: true });
  });

  test('a reading sequence produces raised, level_changed, cleared and reactivated on one alert', () => {
    const gw = startGateway(clock, rules);
    // gas.lel: level 2 at 50 %LEL (clear 45), level 3 at 25 %LEL (clear 22).
    const steps: { lel: number; event?: AlertEventType; level?: number; count?: number }[] = [
      { lel: 10 },
      { lel: 30, event: 'raised', level: 3, count: 1 },
      { lel: 35 },
      { lel: 55, event: 'level_changed', level: 2, count: 3 },
      { lel: 47 },
      { lel: 40, event: 'level_changed', level: 3, count: 5 },
      { lel: 10, event: 'cleared', level: 3, count: 5 },
      { lel: 12 },
      { lel: 28, event: 'reactivated', level: 3, count: 6 },
      { lel: 29 },
    ];
    steps.forEach((s, i) => {
      const before = gw.published.length;
      gw.gas(i, { concentration_lel: s.lel });
      const fresh = gw.published.slice(before);
      expect(types(fresh), `step ${i} (${s.lel} %LEL)`).toEqual(s.event ? [s.event] : []);
      if (s.event) expect(fresh[0]?.alert).toMatchObject({ level: s.level, count: s.count });
    });

    const events = gw.published;
    expect(types(events)).toEqual(['raised', 'level_changed', 'level_changed', 'cleared', 'reactivated']);
    expectIncreasingSeq(events);
    const alertId = events[0]?.alert_id as number;
    expect(events.every((e) => e.alert_id === alertId && e.actor === 'system')).toBe(true);
    expect(events.map((e) => e.at)).toEqual([1, 3, 5, 6, 8].map((i) => T0 + i * STEP_MS + 500));
    expect(events[3]?.alert).toMatchObject({ condition: 'cleared', cleared_at: T0 + 6 * STEP_MS, last_value: 10 });

    expect(gw.store.get(alertId)).toMatchObject({
      tenant: 'acme',
      device_id: 'gas-001',
      kind: 'gas',
      rule_id: 'gas.lel',
      rule_type: 'threshold',
      title: '可燃气体浓度一级报警',
      level: 3,
      condition: 'active',
      handling: 'new',
      count: 7,
      first_value: 30,
      last_value: 29,
      peak_value: 55,
      raised_at: T0 + STEP_MS,
      last_at: T0 + 9 * STEP_MS,
      cleared_at: null,
      updated_at: T0 + 9 * STEP_MS + 500,
      region: 'r1',
      site: 's1',
      historical: false,
    });
    expect(gw.store.query({ tenant: 'acme', deviceId: 'gas-001', open: true })).toHaveLength(1);
    expect(gw.store.query({})).toHaveLength(1);
  });

  test('stored events equal the published ones, in the same order, by seq and by alert', () => {
    const gw = startGateway(clock, rules);
    [30, 55, 10, 28].forEach((lel, i) => gw.gas(i, { concentration_lel: lel }));
    gw.gas(4, { battery_pct: 15 });
    const events = gw.published;
    expect(types(events)).toEqual(['raised', 'level_changed', 'cleared', 'reactivated', 'raised']);
    expectIncreasingSeq(events);

    expect(gw.store.eventsSince(0, 100)).toEqual(events);
    expect(gw.store.eventsSince(events[1]?.seq as number, 100)).toEqual(events.slice(2));
    expect(gw.store.eventsSince(0, 2)).toEqual(events.slice(0, 2));
    expect(gw.store.eventsSince(gw.store.lastSeq(), 100)).toEqual([]);
    expect(gw.store.lastSeq()).toBe(events[4]?.seq);

    const lelId = events[0]?.alert_id as number;
    const batteryId = events[4]?.alert_id as number;
    expect(batteryId).not.toBe(lelId);
    expect(gw.store.eventsOf(lelId)).toEqual(events.slice(0, 4));
    expect(gw.store.eventsOf(batteryId)).toEqual(events.slice(4));
  });

  test.each([
    { source: 'published on the bus', events: (gw: Gateway) => gw.published },
    { source: 'read back from the store', events: (gw: Gateway) => gw.store.eventsSince(0, 10) },
  ])('an event $source keeps the alert as it stood after that transition', ({ events }) => {
    const gw = startGateway(clock, rules);
    [30, 55, 60].forEach((lel, i) => gw.gas(i, { concentration_lel: lel }));
    const [raised, changed] = events(gw);
    expect(raised?.alert).toMatchObject({ level: 3, count: 1, last_value: 30, peak_value: 30 });
    expect(changed?.alert).toMatchObject({ level: 2, count: 2, last_value: 55, peak_value: 55, title: '可燃气体浓度二级报警' });
  });

  test('peak is the minimum for a `below` rule', () => {
    const gw = startGateway(clock, rules);
    // gas.battery_low: level 4 at ≤ 20 %, clear above 25 %.
    [50, 18, 12, 15, 24, 30].forEach((pct, i) => gw.gas(i, { battery_pct: pct }));
    // Level 4 closes by itself once cleared (ALERT_AUTO_CLOSE_LEVELS default).
    expect(types(gw.published)).toEqual(['raised', 'cleared', 'closed']);
    expect(gw.store.get(gw.published[0]?.alert_id as number)).toMatchObject({
      rule_id: 'gas.battery_low',
      level: 4,
      count: 4,
      first_value: 18,
      last_value: 30,
      peak_value: 12,
      condition: 'cleared',
      cleared_at: T0 + 5 * STEP_MS,
    });
  });

  test('each device and rule has its own alert', () => {
    const gw = startGateway(clock, rules);
    gw.gas(0, { concentration_lel: 30, battery_pct: 10 }, 'gas-001');
    gw.gas(1, { concentration_lel: 60 }, 'gas-002');
    gw.gas(2, { concentration_lel: 0 }, 'gas-001');
    expect(gw.published.map((e) => `${e.type} ${e.alert.device_id} ${e.alert.rule_id}`)).toEqual([
      'raised gas-001 gas.lel',
      'raised gas-001 gas.battery_low',
      'raised gas-002 gas.lel',
      'cleared gas-001 gas.lel',
    ]);
    expect(gw.store.query({ open: true })).toHaveLength(3);
  });

  test('the database refuses a second open alert for the same device and rule', () => {
    const gw = startGateway(clock, rules);
    gw.gas(0, { concentration_lel: 30 });
    const { id: _id, ...copy } = gw.published[0]?.alert as NonNullable<AlertEvent['alert']>;
    expect(() => gw.store.insertWithEvent(copy, 'raised', 'system', null)).toThrow(/UNIQUE/);
  });

  test('after a restart an active alert is resumed: a clearing reading clears it', () => {
    const first = startGateway(clock, rules);
    first.gas(0, { concentration_lel: 30 });
    const alertId = first.published[0]?.alert_id as number;
    first.close();

    const second = startGateway(clock, rules);
    second.gas(1, { concentration_lel: 10 });
    expect(types(second.published)).toEqual(['cleared']);
    expect(second.published[0]?.alert_id).toBe(alertId);
    expect(second.published[0]?.seq).toBeGreaterThan(first.published[0]?.seq as number);
    expect(second.store.get(alertId)).toMatchObject({ condition: 'cleared', cleared_at: T0 + STEP_MS });
  });

  test('after a restart a firing reading increments the same alert', () => {
    const first = startGateway(clock, rules);
    first.gas(0, { concentration_lel: 30 });
    const alertId = first.published[0]?.alert_id as number;
    first.close();

    const second = startGateway(clock, rules);
    second.gas(1, { concentration_lel: 35 });
    expect(second.published).toEqual([]);
    expect(second.store.query({ open: true })).toHaveLength(1);
    expect(second.store.get(alertId)).toMatchObject({ count: 2, last_value: 35, peak_value: 35, level: 3, condition: 'active' });
  });

  test('after a restart the resumed level holds through hysteresis', () => {
    const first = startGateway(clock, rules);
    first.gas(0, { concentration_lel: 55 });
    first.close();

    const second = startGateway(clock, rules);
    second.gas(1, { concentration_lel: 47 });
    second.gas(2, { concentration_lel: 44 });
    expect(types(second.published)).toEqual(['level_changed']);
    expect(second.published[0]?.alert).toMatchObject({ level: 3, count: 3 });
  });

  test('after a restart a cleared alert is reactivated, not raised again', () => {
    const first = startGateway(clock, rules);
    first.gas(0, { concentration_lel: 30 });
    first.gas(1, { concentration_lel: 0 });
    const alertId = first.published[0]?.alert_id as number;
    first.close();

    const second = startGateway(clock, rules);
    second.gas(2, { concentration_lel: 0 });
    second.gas(3, { concentration_lel: 60 });
    expect(types(second.published)).toEqual(['reactivated']);
    expect(second.published[0]?.alert).toMatchObject({ id: alertId, level: 2, count: 2, condition: 'active', cleared_at: null });
    expect(second.store.eventsOf(alertId).map((e) => e.type)).toEqual(['raised', 'cleared', 'reactivated']);
  });
});
