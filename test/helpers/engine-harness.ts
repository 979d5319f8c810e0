import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AlertEvent } from '../../src/alerts/alert.js';
import { AlertService, type AlertPolicy } from '../../src/alerts/alert-service.js';
import { AlertStore } from '../../src/alerts/alert-store.js';
import type { KindName } from '../../src/kinds/kind.js';
import { FakeClock } from '../../src/lib/clock.js';
import { EventBus } from '../../src/lib/event-bus.js';
import { createMetrics, type Metrics } from '../../src/lib/metrics.js';
import { openSqlite, type SqliteDb } from '../../src/lib/sqlite.js';
import type { GatewayEvents } from '../../src/pipeline/events.js';
import type { FieldValue, Reading } from '../../src/pipeline/reading.js';
import { DeviceRegistry, type Device } from '../../src/registry/device-registry.js';
import { RuleEngine, type RuleEngineOptions } from '../../src/rules/engine.js';
import { loadRules, type RuleSet } from '../../src/rules/loader.js';

/**
 * The rule engine and alert service over a real SQLite file with a fake clock: the pure logic of alerting, driven
 * reading by reading. `restart()` closes everything and opens it again on the same file (a process restart).
 */
export interface EngineHarness {
  clock: FakeClock;
  dir: string;
  db: SqliteDb;
  store: AlertStore;
  alerts: AlertService;
  engine: RuleEngine;
  registry: DeviceRegistry;
  metrics: Metrics;
  /** Events in the order the bus published them (kept across restarts). */
  events: AlertEvent[];
  /** Feeds a reading at device time `ts` (default: the clock), with the clock set to `now` (default: ts). */
  feed(device: Pick<Device, 'tenant' | 'deviceId' | 'kind'>, fields: Record<string, FieldValue>, opts?: { ts?: number; tags?: Record<string, string>; historical?: boolean }): void;
  /** Advances the clock by `ms` in steps of `stepMs`, ticking the engine after each step. */
  advance(ms: number, stepMs?: number): void;
  restart(): void;
  close(): void;
}

export interface HarnessOptions {
  /** Rule files: name → YAML text. Default: the shipped alert-rules/. */
  ruleFiles?: Record<string, string>;
  rules?: RuleSet;
  devices: Device[];
  policy?: Partial<AlertPolicy>;
  engine?: Partial<RuleEngineOptions>;
  startMs?: number;
  /** Start the engine's own timers (tick, persistence passes); default false — tests tick it themselves. */
  timers?: boolean;
}

export function device(tenant: string, deviceId: string, kind: KindName, extra: Partial<Device> = {}): Device {
  return { tenant, deviceId, kind, heartbeatS: 60, attrs: {}, region: '510104', site: 'site-1', ...extra };
}

export function startEngineHarness(opts: HarnessOptions): EngineHarness {
  const dir = mkdtempSync(join(tmpdir(), 'rg-engine-'));
  let rules = opts.rules;
  if (!rules) {
    let rulesDir = join(import.meta.dirname, '../../alert-rules');
    if (opts.ruleFiles) {
      rulesDir = join(dir, 'rules');
      mkdirSync(rulesDir, { recursive: true });
      for (const [name, text] of Object.entries(opts.ruleFiles)) writeFileSync(join(rulesDir, name), text);
    }
    const res = loadRules(rulesDir, rulesDir);
    if (!res.ok) throw new Error(`rules invalid: ${JSON.stringify(res.problems)}`);
    rules = res.rules;
  }
  const clock = new FakeClock(opts.startMs ?? Date.UTC(2025, 2, 15, 6, 0, 0));
  const events: AlertEvent[] = [];
  const logger = pino({ level: 'silent' });
  const h = {} as EngineHarness;
  const open = (): void => {
    const db = openSqlite(join(dir, 'riskgate.db'));
    const metrics = createMetrics({ defaultMetrics: false });
    const bus = new EventBus<GatewayEvents>((_e, err) => {
      throw err;
    });
    bus.on('alertEvent', events, (ev) => events.push(ev));
    const registry = new DeviceRegistry(db);
    registry.start();
    registry.upsert(opts.devices);
    const store = new AlertStore(db);
    store.start();
    const alerts = new AlertService({ store, bus, clock, metrics, policy: opts.policy });
    alerts.start();
    const engine = new RuleEngine({ rules: rules as RuleSet, alerts, registry, clock, logger, db, options: opts.engine });
    engine.start({ timers: opts.timers ?? false });
    Object.assign(h, { db, store, alerts, engine, registry, metrics });
  };
  Object.assign(h, {
    clock,
    dir,
    events,
    feed(d: Pick<Device, 'tenant' | 'deviceId' | 'kind'>, fields: Record<string, FieldValue>, o: { ts?: number; tags?: Record<string, string>; historical?: boolean } = {}) {
      const ts = o.ts ?? clock.now();
      const reading: Reading = { tenant: d.tenant, deviceId: d.deviceId, kind: d.kind, channel: 'telemetry', ts, receivedAt: clock.now(), fields, tags: o.tags ?? {}, historical: o.historical };
      h.engine.accept(reading);
    },
    advance(ms: number, stepMs = 1000) {
      for (let t = 0; t < ms; t += stepMs) {
        clock.advance(Math.min(stepMs, ms - t));
        h.engine.tick();
      }
    },
    restart() {
      h.engine.stop();
      h.db.close();
      open();
    },
    close() {
      h.engine.stop();
      if (h.db.open) h.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
  open();
  return h;
}
