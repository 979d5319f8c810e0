import type { AlertService } from '../alerts/alert-service.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { SqliteDb } from '../lib/sqlite.js';
import type { ReadingSink } from '../pipeline/pipeline.js';
import type { Reading } from '../pipeline/reading.js';
import type { KindName } from '../kinds/kind.js';
import { DeviceMap } from '../registry/device-map.js';
import type { Device, DeviceRegistry } from '../registry/device-registry.js';
import { resolveRule, type RuleSet } from './loader.js';
import { EVALUATORS } from './registry.js';
import { RuleStateStore, SLOT_DIRTY, SLOT_EXISTS, SLOT_FIRING, type DeviceSlots, type LooseSlot, type Snapshot } from './state-store.js';
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

/**
 * The rule state of one device: a slot per rule of its kind, aligned with the device's resolved rules so that a
 * reading finds its slots by position (issue 9: one lookup per reading instead of a string key and a map lookup per
 * rule). The resolution (overrides applied) is redone when the rule set or the registry record changes.
 */
interface DeviceRules extends DeviceSlots {
  /** The registry record `rules` was resolved for (the registry replaces the object on every change of the device). */
  device?: Device;
  /** The rule set and kind `rules` was resolved from. */
  ruleSet?: RuleSet;
  kind?: KindName;
  /** In the list of devices the next persistence pass visits ({@link RuleEngine.markDirty}). */
  queued: boolean;
  /** `ruleSet.byKind[kind]` with the device's overrides applied, same order: `states[i]` (created on first use) is the
   * state of `rules[i]`; `other` holds slots of rules outside it (restored before the device was seen, or of another
   * kind), kept and persisted. */
  rules: readonly RuleBase[];
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
  private readonly devices = new DeviceMap<DeviceRules>();
  private readonly history = new Map<string, HistorySlot>();
  private tickTimer?: NodeJS.Timeout;
  private persistTimer?: NodeJS.Timeout;
  /** A persist in progress (sliced: {@link PERSIST_SLICE_MS} at a time), and its next slice. */
  private persisting?: Iterator<DeviceRules>;
  /**
   * The devices the next persistence pass visits: each one with a slot made dirty or a newer `lastTs` since it was
   * last visited, once. A pass over these alone, not over every device (issue 9: with 20 000 devices an idle gateway
   * spent ~20 ms of CPU every 2 s looking at devices with nothing to write, more on cold caches; bench/idle-cpu.ts).
   */
  private dirty: DeviceRules[] = [];
  private persistNext?: NodeJS.Immediate;
  /** Per kind, the registry's device list the tick last walked and each device's state, aligned (no lookup per device and second). */
  private tickLists = new Map<KindName, { devices: readonly Device[]; ruleSet: RuleSet; drs: DeviceRules[] }>();
  private lastIngestAt = 0;
  /** Gateway time since which ingest has been continuous (start, or the end of the last stall). */
  private observedSince = 0;
  private stalled = false;
  private store?: RuleStateStore;
  private evaluatorLists?: { ruleSet: RuleSet; byKind: Map<KindName, (RuleEvaluator | undefined)[]> };
  private readonly evaluatorOf = (ruleId: string): RuleEvaluator | undefined => EVALUATORS[this.rules.byId.get(ruleId)?.type ?? ''];

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
      this.store = new RuleStateStore(this.ctx.db);
      const restored = this.store.load(this.evaluatorOf);
      for (const d of restored.devices) {
        const dr = this.deviceRules(d.tenant, d.deviceId);
        dr.lastTs = dr.writtenTs = d.lastTs;
      }
      // Aligned with the device's rules on its first reading or tick.
      for (const { tenant, deviceId, ruleId, lastTs, slot } of restored.slots) {
        const dr = this.deviceRules(tenant, deviceId);
        // Rows written before the device's own time was kept (migration 2) hold it themselves.
        if (lastTs > dr.lastTs) {
          dr.lastTs = lastTs;
          this.markDirty(dr);
        }
        (dr.other ??= new Map()).set(ruleId, slot);
      }
      this.ctx.logger.info({ slots: restored.slots.length }, 'rule state restored');
    }
    if (opts.timers ?? true) {
      this.tickTimer = setInterval(() => this.tick(), this.opts.tickIntervalMs);
      this.tickTimer.unref();
      if (this.ctx.db) {
        this.persistTimer = setInterval(() => this.persistSlice(), this.opts.persistIntervalMs);
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

  /**
   * The timer's persist: writes what changed in slices of at most PERSIST_SLICE_MS, yielding to the event loop between
   * them, so that readings and alerts are not held behind one long transaction. A pass still running when the timer
   * fires again just goes on.
   */
  private persistSlice(): void {
    this.persistNext = undefined;
    if (!this.ctx.db?.open || !this.store) return;
    if (this.persisting === undefined) {
      if (this.persistTimer === undefined) return; // stopped meanwhile
      if (this.dirty.length === 0) return;
      this.persisting = visiting(this.dirty);
      this.dirty = [];
    }
    const done = this.store.writeSome(this.persisting, this.evaluatorOf, this.ctx.clock.now(), performance.now() + PERSIST_SLICE_MS);
    if (done) this.persisting = undefined;
    else this.persistNext ??= setImmediate(() => this.persistSlice());
  }

  /** Swaps the rule set (hot reload); state of rules that still exist is kept, that of removed rules dropped. */
  setRules(rules: RuleSet): void {
    const removed = [...this.rules.byId.keys()].filter((id) => !rules.byId.has(id));
    this.rules = rules;
    // Their rows go too: a slot in its initial state is never written, so an old row would outlive a re-added rule.
    if (removed.length > 0) this.store?.forget(removed);
    for (const dr of this.devices.values()) {
      // Every device is resolved again on its next reading or tick (`ruleSet` no longer matches); removed rules' state goes now.
      const keep = loose(dr);
      for (const id of keep.keys()) if (!rules.byId.has(id)) keep.delete(id);
      dr.rules = [];
      dr.evaluators = [];
      dr.states = [];
      dr.flags = [];
      dr.written = [];
      dr.ruleSet = undefined;
      dr.other = keep.size > 0 ? keep : undefined;
    }
  }

  get ruleSet(): RuleSet {
    return this.rules;
  }

  accept(reading: Reading, known?: Device): void {
    const now = this.ctx.clock.now();
    this.lastIngestAt = now;
    if (this.stalled) this.endStall(now);
    const device = known ?? this.ctx.registry.get(reading.tenant, reading.deviceId);
    if (!device) return;
    const dr = this.bind(device, reading.kind);
    this.markDirty(dr);
    const ctx: EvalContext = { device, now, observedSince: this.observedSince };
    // Back-dated (the `Reading.historical` contract): flagged so, older than the history cut-off, or older than the
    // device's latest — the newest reading its rules evaluated live. One time per device, not per rule (issue 9).
    const back = reading.historical === true || reading.ts < now - this.opts.historyCutoffMs || reading.ts < dr.lastTs;
    if (!back && reading.ts > dr.lastTs) dr.lastTs = reading.ts;
    const rules = dr.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as RuleBase;
      if (!rule.enabled) continue;
      const evaluator = dr.evaluators[i];
      if (!evaluator) continue;
      if (!((dr.flags[i] as number) & SLOT_EXISTS)) this.newSlot(dr, i, rule, evaluator);
      // Time-driven rules (offline) are about reception, not device time: any reading, however old, counts live.
      if (back && !evaluator.tick) {
        this.evaluateHistory(rule, evaluator, reading, ctx);
        continue;
      }
      dr.flags[i] = (dr.flags[i] as number) | SLOT_DIRTY;
      this.apply(rule, dr, i, evaluator.evaluate(rule, dr.states[i], reading, ctx), reading, device);
    }
  }

  /** Runs time-driven rules and the ingest-stall check. Public so tests can drive it with a fake clock. */
  tick(): void {
    const now = this.ctx.clock.now();
    this.ctx.alerts.tick();
    if (!this.stalled && this.ctx.registry.size > 0 && now - this.lastIngestAt > this.opts.ingestStallMs) this.beginStall(now);
    if (this.stalled) return; // a silent gateway says nothing about its devices
    for (const kind of Object.keys(this.rules.byKind) as KindName[]) {
      const base = this.rules.byKind[kind];
      const timed: number[] = [];
      for (let i = 0; i < base.length; i++) if (EVALUATORS[(base[i] as RuleBase).type]?.tick) timed.push(i);
      if (timed.length === 0) continue;
      const list = this.tickList(kind);
      for (let d = 0; d < list.devices.length; d++) {
        const device = list.devices[d] as Device;
        let dr = list.drs[d] as DeviceRules;
        if (dr.device !== device || dr.ruleSet !== this.rules || dr.kind !== kind) dr = list.drs[d] = this.bind(device, kind);
        const ctx: EvalContext = { device, now, observedSince: this.observedSince };
        for (const i of timed) {
          const rule = dr.rules[i] as RuleBase;
          if (!rule.enabled) continue;
          const evaluator = EVALUATORS[rule.type] as RuleEvaluator;
          if (!((dr.flags[i] as number) & SLOT_EXISTS)) this.newSlot(dr, i, rule, evaluator);
          const result = evaluator.tick?.(rule, dr.states[i], ctx);
          if (result) {
            dr.flags[i] = (dr.flags[i] as number) | SLOT_DIRTY;
            this.markDirty(dr);
          }
          this.apply(rule, dr, i, result, undefined, device);
        }
      }
    }
    for (const [k, h] of this.history) if (now - h.touchedAt > 3_600_000) this.history.delete(k);
  }

  /** The devices of a kind and their states, aligned; rebuilt when the registry's list or the rule set changed. */
  private tickList(kind: KindName): { devices: readonly Device[]; drs: DeviceRules[] } {
    const devices = this.ctx.registry.ofKind(kind);
    let list = this.tickLists.get(kind);
    if (list?.devices !== devices || list.ruleSet !== this.rules) {
      list = { devices, ruleSet: this.rules, drs: devices.map((device) => this.bind(device, kind)) };
      this.tickLists.set(kind, list);
    }
    return list;
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

  /** The state of a device, created empty. */
  private deviceRules(tenant: string, deviceId: string): DeviceRules {
    let dr = this.devices.get(tenant, deviceId);
    if (!dr) {
      dr = { tenant, deviceId, device: undefined, ruleSet: undefined, kind: undefined, queued: false, rules: [], evaluators: [], states: [], flags: [], written: [], other: undefined, lastTs: 0, writtenTs: 0 };
      this.devices.set(tenant, deviceId, dr);
    }
    return dr;
  }

  /** The state of a device with its rules resolved for this record, rule set and kind. */
  private bind(device: Device, kind: KindName): DeviceRules {
    const dr = this.deviceRules(device.tenant, device.deviceId);
    if (dr.device === device && dr.ruleSet === this.rules && dr.kind === kind) return dr;
    // Resolve again: the overrides that apply depend on the record (tenant, region) and on the rule set.
    const pool = loose(dr);
    const base = this.rules.byKind[kind];
    const rules = base.map((rule) => resolveRule(this.rules, rule, device));
    // Without an override for the device, it shares the kind's lists with every other such device (issue 9: memory).
    const shared = this.sharedLists(kind);
    const plain = rules.every((rule, i) => rule === base[i]);
    dr.rules = plain ? base : rules;
    dr.evaluators = plain ? shared : rules.map((rule) => EVALUATORS[rule.type]);
    const n = dr.rules.length;
    dr.states = new Array<unknown>(n).fill(undefined);
    dr.flags = new Array<number>(n).fill(0);
    dr.written = new Array<Snapshot | undefined>(n).fill(undefined);
    for (let i = 0; i < n; i++) {
      const id = (dr.rules[i] as RuleBase).id;
      const slot = pool.get(id);
      if (!slot) continue;
      pool.delete(id);
      dr.states[i] = slot.state;
      dr.flags[i] = slot.flags;
      dr.written[i] = slot.written;
    }
    dr.other = pool.size > 0 ? pool : undefined;
    dr.device = device;
    dr.ruleSet = this.rules;
    dr.kind = kind;
    return dr;
  }

  /** The evaluators of `rules.byKind[kind]`, one array per kind and rule set. */
  private sharedLists(kind: KindName): (RuleEvaluator | undefined)[] {
    if (this.evaluatorLists?.ruleSet !== this.rules) this.evaluatorLists = { ruleSet: this.rules, byKind: new Map() };
    let list = this.evaluatorLists.byKind.get(kind);
    if (!list) {
      list = this.rules.byKind[kind].map((rule) => EVALUATORS[rule.type]);
      this.evaluatorLists.byKind.set(kind, list);
    }
    return list;
  }

  private newSlot(dr: DeviceRules, i: number, rule: RuleBase, evaluator: RuleEvaluator): void {
    const open = this.ctx.alerts.openAlert(dr.tenant, dr.deviceId, rule.id);
    const active = open?.condition === 'active';
    dr.states[i] = evaluator.initialState(rule, active ? { level: open.level } : undefined);
    dr.flags[i] = SLOT_EXISTS | SLOT_DIRTY | (active ? SLOT_FIRING : 0);
    this.markDirty(dr);
  }

  /** Puts the device in the next persistence pass, if it is not there yet. Every change to what is written calls it. */
  private markDirty(dr: DeviceRules): void {
    if (dr.queued) return;
    dr.queued = true;
    this.dirty.push(dr);
  }

  private apply(rule: RuleBase, dr: DeviceRules, i: number, result: EvalResult | undefined, reading: Reading | undefined, device: Device): void {
    if (!result) return;
    const flags = dr.flags[i] as number;
    if (result.status === 'firing') {
      dr.flags[i] = flags | SLOT_FIRING;
      this.ctx.alerts.firing(rule, device, result, reading);
    } else if (result.status === 'clear' && flags & SLOT_FIRING) {
      dr.flags[i] = flags & ~SLOT_FIRING;
      this.ctx.alerts.cleared(rule, device, result, reading);
    }
  }

  private evaluateHistory(rule: RuleBase, evaluator: RuleEvaluator, reading: Reading, ctx: EvalContext): void {
    const key = slotKey(ctx.device.tenant, ctx.device.deviceId, rule.id);
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

  /** Writes everything that changed to SQLite now, in one go (src/rules/state-store.ts); ends a sliced pass. */
  persist(): void {
    if (this.persistNext) clearImmediate(this.persistNext);
    this.persistNext = undefined;
    if (!this.ctx.db?.open) return;
    // Every device is written below: the pass under way and the queue end here, and each device may be queued again.
    this.persisting = undefined;
    this.dirty = [];
    for (const dr of this.devices.values()) dr.queued = false;
    this.store?.write(this.devices.values(), this.evaluatorOf, this.ctx.clock.now());
  }
}

/** Longest a slice of the timer's persist holds the event loop, ms. */
const PERSIST_SLICE_MS = 5;

/** The devices of a pass, each taken off the queue as it is visited: a change after its visit queues it for the next. */
function* visiting(list: DeviceRules[]): Generator<DeviceRules> {
  for (const dr of list) {
    dr.queued = false;
    yield dr;
  }
}

/** Every slot of a device, aligned and loose, by rule id (to be aligned again with another rule list). */
function loose(dr: DeviceRules): Map<string, LooseSlot> {
  const pool = new Map<string, LooseSlot>(dr.other);
  for (let i = 0; i < dr.flags.length; i++) {
    const flags = dr.flags[i] as number;
    if (flags & SLOT_EXISTS) pool.set((dr.rules[i] as RuleBase).id, { state: dr.states[i], flags, written: dr.written[i] });
  }
  return pool;
}

function slotKey(tenant: string, deviceId: string, ruleId: string): string {
  return `${tenant}\u0000${deviceId}\u0000${ruleId}`;
}
