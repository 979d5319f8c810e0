import type { AlertService } from '../alerts/alert-service.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';
import type { ReadingSink } from '../pipeline/pipeline.js';
import type { Reading } from '../pipeline/reading.js';
import type { Device, DeviceRegistry } from '../registry/device-registry.js';
import { resolveRule, type RuleSet } from './loader.js';
import { EVALUATORS } from './registry.js';
import type { EvalContext, EvalResult, RuleBase, RuleEvaluator } from './types.js';

/** Engine timing. */
export interface RuleEngineOptions {
  /** How often time-driven rules (offline) and the ingest-stall check run, ms. Default 1000. */
  tickIntervalMs: number;
  /** How often changed rule state is written to SQLite, ms (a crash loses at most this much state). Default 2000. */
  persistIntervalMs: number;
  /**
   * A reading whose device time is older than this (relative to the gateway clock) is evaluated as history, never
   * paged live (domain.md §5.3: back-filled points must not re-trigger real-time alarms), ms. Default 600 000 (10 min).
   */
  historyCutoffMs: number;
  /**
   * The gateway counts as receiving nothing when no reading at all arrived for this long while devices are registered;
   * then one ingest alert is raised instead of a device-offline alert per device, ms. Default 120 000.
   */
  ingestStallMs: number;
}

export const DEFAULT_RULE_ENGINE_OPTIONS: RuleEngineOptions = {
  tickIntervalMs: 1000,
  persistIntervalMs: 2000,
  historyCutoffMs: 600_000,
  ingestStallMs: 120_000,
};

interface Slot {
  ruleId: string;
  state: unknown;
  firing: boolean;
  /** Newest device time evaluated live. */
  lastTs: number;
  dirty: boolean;
}

interface HistorySlot {
  state: unknown;
  firing: boolean;
  touchedAt: number;
}

export interface RuleEngineContext {
  rules: RuleSet;
  alerts: AlertService;
  registry: DeviceRegistry;
  clock: Clock;
  logger: Logger;
  /** Where rule state is persisted; without it state lives in memory only (unit tests). */
  db?: SqliteDb;
  options?: Partial<RuleEngineOptions>;
}

const MIGRATIONS = [
  `CREATE TABLE rule_state (
     key TEXT PRIMARY KEY,
     rule_id TEXT NOT NULL,
     state TEXT NOT NULL,
     firing INTEGER NOT NULL,
     last_ts INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID`,
];

/** Pseudo device that carries gateway-level alerts (ingest stalled). */
export const GATEWAY_TENANT = '_gateway';
export const INGEST_STALL_RULE_ID = 'gateway.ingest_stalled';

/**
 * Evaluates every rule of a reading's kind over per-(device, rule) state and hands transitions to the alert service.
 * Synchronous on the reading path. Time-driven rules run on a tick. Back-dated readings are evaluated on a separate
 * history state and raise only historical alerts. State is persisted so that a half-elapsed `for` or a driving-time
 * counter continues after a restart.
 */
export class RuleEngine implements ReadingSink {
  private rules: RuleSet;
  private readonly ctx: RuleEngineContext;
  private readonly opts: RuleEngineOptions;
  private readonly slots = new Map<string, Slot>();
  private readonly history = new Map<string, HistorySlot>();
  private tickTimer?: NodeJS.Timeout;
  private persistTimer?: NodeJS.Timeout;
  private lastIngestAt = 0;
  /** Gateway time since which ingest has been continuous (start, or the end of the last stall). */
  private observedSince = 0;
  private stalled = false;

  constructor(ctx: RuleEngineContext) {
    this.ctx = ctx;
    this.rules = ctx.rules;
    this.opts = { ...DEFAULT_RULE_ENGINE_OPTIONS, ...ctx.options };
  }

  start(opts: { timers?: boolean } = {}): void {
    const now = this.ctx.clock.now();
    this.observedSince = now;
    this.lastIngestAt = now;
    if (this.ctx.db) {
      migrate(this.ctx.db, 'rules', MIGRATIONS);
      const rows = this.ctx.db.prepare('SELECT key, rule_id, state, firing, last_ts FROM rule_state').all() as {
        key: string;
        rule_id: string;
        state: string;
        firing: number;
        last_ts: number;
      }[];
      for (const r of rows) {
        if (!this.rules.byId.has(r.rule_id)) continue;
        this.slots.set(r.key, { ruleId: r.rule_id, state: JSON.parse(r.state) as unknown, firing: r.firing === 1, lastTs: r.last_ts, dirty: false });
      }
      this.ctx.logger.info({ slots: this.slots.size }, 'rule state restored');
    }
    if (opts.timers ?? true) {
      this.tickTimer = setInterval(() => this.tick(), this.opts.tickIntervalMs);
      this.tickTimer.unref();
      if (this.ctx.db) {
        this.persistTimer = setInterval(() => this.persist(), this.opts.persistIntervalMs);
        this.persistTimer.unref();
      }
    }
  }

  stop(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.persistTimer) clearInterval(this.persistTimer);
    this.tickTimer = undefined;
    this.persistTimer = undefined;
    this.persist();
  }

  /** Swaps the rule set (hot reload); state of rules that still exist is kept, that of removed rules dropped. */
  setRules(rules: RuleSet): void {
    this.rules = rules;
    for (const [k, slot] of this.slots) if (!rules.byId.has(slot.ruleId)) this.slots.delete(k);
  }

  get ruleSet(): RuleSet {
    return this.rules;
  }

  accept(reading: Reading): void {
    const now = this.ctx.clock.now();
    this.lastIngestAt = now;
    if (this.stalled) this.endStall(now);
    const device = this.ctx.registry.get(reading.tenant, reading.deviceId);
    if (!device) return;
    const rules = this.rules.byKind[reading.kind];
    const ctx: EvalContext = { device, now, observedSince: this.observedSince };
    const old = reading.historical === true || reading.ts < now - this.opts.historyCutoffMs;
    for (let i = 0; i < rules.length; i++) {
      const rule = resolveRule(this.rules, rules[i] as RuleBase, device);
      if (!rule.enabled) continue;
      const evaluator = EVALUATORS[rule.type];
      if (!evaluator) continue;
      const key = slotKey(reading.tenant, reading.deviceId, rule.id);
      const slot = this.slotFor(key, rule, evaluator, reading.tenant, reading.deviceId);
      // Time-driven rules (offline) are about reception, not device time: any reading, however old, counts live.
      if ((old || reading.ts < slot.lastTs) && !evaluator.tick) {
        this.evaluateHistory(key, rule, evaluator, reading, ctx);
        continue;
      }
      if (reading.ts > slot.lastTs) slot.lastTs = reading.ts;
      slot.dirty = true;
      this.apply(rule, slot, evaluator.evaluate(rule, slot.state, reading, ctx), reading, device);
    }
  }

  /** Runs time-driven rules and the ingest-stall check. Public so tests can drive it with a fake clock. */
  tick(): void {
    const now = this.ctx.clock.now();
    this.ctx.alerts.tick();
    if (!this.stalled && this.ctx.registry.size > 0 && now - this.lastIngestAt > this.opts.ingestStallMs) this.beginStall(now);
    if (this.stalled) return; // a silent gateway says nothing about its devices
    for (const kind of Object.keys(this.rules.byKind) as (keyof RuleSet['byKind'])[]) {
      const rules = this.rules.byKind[kind].filter((r) => EVALUATORS[r.type]?.tick);
      if (rules.length === 0) continue;
      for (const device of this.ctx.registry.list({ kind })) {
        const ctx: EvalContext = { device, now, observedSince: this.observedSince };
        for (const base of rules) {
          const rule = resolveRule(this.rules, base, device);
          if (!rule.enabled) continue;
          const evaluator = EVALUATORS[rule.type] as RuleEvaluator;
          const key = slotKey(device.tenant, device.deviceId, rule.id);
          const slot = this.slotFor(key, rule, evaluator, device.tenant, device.deviceId);
          const result = evaluator.tick?.(rule, slot.state, ctx);
          if (result) slot.dirty = true;
          this.apply(rule, slot, result, undefined, device);
        }
      }
    }
    for (const [k, h] of this.history) if (now - h.touchedAt > 3_600_000) this.history.delete(k);
  }

  private beginStall(now: number): void {
    this.stalled = true;
    this.ctx.logger.warn({ silentMs: now - this.lastIngestAt }, 'ingest stalled: no reading from any device');
    this.ctx.alerts.gatewayAlert(INGEST_STALL_RULE_ID, true, { title: '网关数据接收中断', level: 2, standard: 'riskgate: gateway-level ingest watchdog (issue 3)', value: (now - this.lastIngestAt) / 1000 });
  }

  private endStall(now: number): void {
    this.stalled = false;
    this.observedSince = now;
    this.ctx.logger.info('ingest resumed');
    this.ctx.alerts.gatewayAlert(INGEST_STALL_RULE_ID, false, { title: '网关数据接收中断', level: 2, standard: 'riskgate: gateway-level ingest watchdog (issue 3)', value: 0 });
  }

  private slotFor(key: string, rule: RuleBase, evaluator: RuleEvaluator, tenant: string, deviceId: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      const open = this.ctx.alerts.openAlert(tenant, deviceId, rule.id);
      const active = open?.condition === 'active';
      slot = { ruleId: rule.id, state: evaluator.initialState(rule, active ? { level: open.level } : undefined), firing: active, lastTs: 0, dirty: true };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private apply(rule: RuleBase, slot: Slot, result: EvalResult | undefined, reading: Reading | undefined, device: Device): void {
    if (!result) return;
    if (result.status === 'firing') {
      slot.firing = true;
      this.ctx.alerts.firing(rule, device, result, reading);
    } else if (result.status === 'clear' && slot.firing) {
      slot.firing = false;
      this.ctx.alerts.cleared(rule, device, result, reading);
    }
  }

  private evaluateHistory(key: string, rule: RuleBase, evaluator: RuleEvaluator, reading: Reading, ctx: EvalContext): void {
    let h = this.history.get(key);
    if (!h) {
      // History state lives in memory only (dropped after an hour untouched, or by a restart) while its historical
      // alert stays open: start from the alert, like a live slot does, or a later clearing reading would be ignored.
      const open = this.ctx.alerts.openAlert(ctx.device.tenant, ctx.device.deviceId, rule.id, true);
      const active = open?.condition === 'active';
      h = { state: evaluator.initialState(rule, active ? { level: open.level } : undefined), firing: active, touchedAt: ctx.now };
      this.history.set(key, h);
    }
    h.touchedAt = ctx.now;
    const hist: Reading = reading.historical ? reading : { ...reading, historical: true };
    const result = evaluator.evaluate(rule, h.state, hist, ctx);
    if (!result) return;
    if (result.status === 'firing') {
      h.firing = true;
      this.ctx.alerts.firing(rule, ctx.device, result, hist);
    } else if (result.status === 'clear' && h.firing) {
      h.firing = false;
      this.ctx.alerts.cleared(rule, ctx.device, result, hist);
    }
  }

  /** Writes changed slots to SQLite in one transaction. */
  persist(): void {
    const db = this.ctx.db;
    if (!db?.open) return;
    const now = this.ctx.clock.now();
    const upsert = db.prepare(
      'INSERT INTO rule_state (key, rule_id, state, firing, last_ts, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state, firing = excluded.firing, last_ts = excluded.last_ts, updated_at = excluded.updated_at',
    );
    db.transaction(() => {
      for (const [k, s] of this.slots) {
        if (!s.dirty) continue;
        upsert.run(k, s.ruleId, JSON.stringify(s.state ?? null), s.firing ? 1 : 0, s.lastTs, now);
        s.dirty = false;
      }
    })();
  }
}

function slotKey(tenant: string, deviceId: string, ruleId: string): string {
  return `${tenant}\u0000${deviceId}\u0000${ruleId}`;
}
