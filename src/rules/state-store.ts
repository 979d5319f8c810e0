import { migrate, type SqliteDb } from '../lib/sqlite.js';
import type { RuleEvaluator } from './types.js';

/** Bits of `DeviceSlots.flags[i]` (and of a loose slot's `flags`). */
export const SLOT_EXISTS = 1;
/** The rule fired and has not cleared since. */
export const SLOT_FIRING = 2;
/** Evaluated (or ticked with an outcome) since the last write: its state may have changed. */
export const SLOT_DIRTY = 4;
/** The firing flag as last written (or read on start). */
export const SLOT_WRITTEN_FIRING = 8;

/** A slot outside a device's aligned lists: restored before the device was seen, or of a rule not in its list now. */
export interface LooseSlot {
  state: unknown;
  flags: number;
  written: Snapshot | undefined;
}

/**
 * A device's rule state as the engine holds it and the store writes it: parallel arrays aligned with the device's rule
 * list, `states[i]` the state of `rules[i]` (issue 9: no object per slot — three arrays per device instead of an
 * object per rule, ~0.5 KB less per device).
 */
export interface DeviceSlots {
  tenant: string;
  deviceId: string;
  /** Newest device time a value rule (not time-driven) evaluated live: what decides that a reading is back-dated. */
  lastTs: number;
  /** `lastTs` as last written. */
  writtenTs: number;
  rules: readonly { readonly id: string }[];
  /** `evaluators[i]` is the evaluator of `rules[i]`. */
  evaluators: readonly (RuleEvaluator | undefined)[];
  states: unknown[];
  flags: number[];
  /** The durable state as last written (or read on start); undefined when never written. */
  written: (Snapshot | undefined)[];
  /** Slots outside the aligned lists, by rule id. */
  other?: Map<string, LooseSlot>;
}

/** What the store held on start. */
export interface RestoredRuleState {
  devices: { tenant: string; deviceId: string; lastTs: number }[];
  /** `lastTs`: the row's newest device time (rows written before migration 2 carry the device's). */
  slots: { tenant: string; deviceId: string; ruleId: string; lastTs: number; slot: LooseSlot }[];
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
  // 2 (issue 9): a device's newest live device time, once per device. A rule_state row is written only when the
  // rule's durable state or firing flag changed, no longer on every reading because `last_ts` moved.
  `CREATE TABLE rule_device_ts (
     tenant TEXT NOT NULL,
     device_id TEXT NOT NULL,
     last_ts INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (tenant, device_id)
   ) WITHOUT ROWID`,
];

/**
 * Rule state in SQLite: one `rule_state` row per (device, rule), written when what a restart needs of it changed,
 * and one `rule_device_ts` row per device for its newest live device time. Issue 9: writing every evaluated slot
 * every 2 s was a quarter of the gateway's CPU per reading.
 */
export class RuleStateStore {
  private readonly db: SqliteDb;

  constructor(db: SqliteDb) {
    this.db = db;
  }

  /**
   * Migrates and reads everything. Rows of rules `evaluatorOf` does not know (removed rules) are deleted: a slot is
   * not written while it holds its rule's initial state (see `writeSome`), so a row left behind would come back as
   * the state of a rule added again later.
   */
  load(evaluatorOf: (ruleId: string) => RuleEvaluator | undefined): RestoredRuleState {
    migrate(this.db, 'rules', MIGRATIONS);
    const devices = (this.db.prepare('SELECT tenant, device_id, last_ts FROM rule_device_ts').all() as { tenant: string; device_id: string; last_ts: number }[]).map((r) => ({
      tenant: r.tenant,
      deviceId: r.device_id,
      lastTs: r.last_ts,
    }));
    const rows = this.db.prepare('SELECT key, rule_id, state, firing, last_ts FROM rule_state').all() as { key: string; rule_id: string; state: string; firing: number; last_ts: number }[];
    const slots: RestoredRuleState['slots'] = [];
    const removed = new Set<string>();
    for (const r of rows) {
      const evaluator = evaluatorOf(r.rule_id);
      if (!evaluator) {
        removed.add(r.rule_id);
        continue;
      }
      const [tenant, deviceId] = r.key.split('\u0000') as [string, string];
      const state = JSON.parse(r.state) as unknown;
      const firing = r.firing === 1;
      const flags = SLOT_EXISTS | (firing ? SLOT_FIRING | SLOT_WRITTEN_FIRING : 0);
      slots.push({ tenant, deviceId, ruleId: r.rule_id, lastTs: r.last_ts, slot: { state, flags, written: snapshot(durableOf(evaluator, state)) } });
    }
    this.forget(removed);
    return { devices, slots };
  }

  /** Deletes every row of these rules (removed from the rule set). */
  forget(ruleIds: Iterable<string>): void {
    if (!this.db.open) return;
    const del = this.db.prepare('DELETE FROM rule_state WHERE rule_id = ?');
    this.db.transaction(() => {
      for (const id of ruleIds) del.run(id);
    })();
  }

  /** Writes, in one transaction, each device's newest time when it moved and each dirty slot whose durable state changed. */
  write(devices: Iterable<DeviceSlots>, evaluatorOf: (ruleId: string) => RuleEvaluator | undefined, now: number): void {
    this.writeSome(devices[Symbol.iterator](), evaluatorOf, now, Number.POSITIVE_INFINITY);
  }

  /**
   * {@link write} in slices (issue 9: one transaction over 20 000 devices held the event loop for up to half a second
   * every 2 s, and every alert behind it): takes devices from `devices` in one transaction until `deadline`
   * (`performance.now()` ms, checked every 64 devices); true once the iterator is exhausted. A device's slots are
   * written together; each slot keeps its own written snapshot, so slices need not be one transaction.
   */
  writeSome(devices: Iterator<DeviceSlots>, evaluatorOf: (ruleId: string) => RuleEvaluator | undefined, now: number, deadline: number): boolean {
    if (!this.db.open) return true;
    const upsert = this.db.prepare(
      'INSERT INTO rule_state (key, rule_id, state, firing, last_ts, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state, firing = excluded.firing, last_ts = excluded.last_ts, updated_at = excluded.updated_at',
    );
    const upsertTs = this.db.prepare(
      'INSERT INTO rule_device_ts (tenant, device_id, last_ts, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, device_id) DO UPDATE SET last_ts = excluded.last_ts, updated_at = excluded.updated_at',
    );
    /**
     * Writes the slot when what a restart needs of it changed; returns its new snapshot (or the old one). `rule`
     * (aligned slots only): a slot never written, not firing and holding its rule's initial durable state is not
     * written either — no row restores exactly that (issue 9: the first reading of each device wrote a row for
     * every one of its rules, ten of them for most kinds, nearly all in their initial state).
     */
    const writeSlot = (d: DeviceSlots, ruleId: string, state: unknown, flags: number, written: Snapshot | undefined, evaluator: RuleEvaluator | undefined, rule?: object): Snapshot => {
      const durable = durableOf(evaluator, state);
      const firing = (flags & SLOT_FIRING) !== 0;
      if (written === undefined && !firing && rule !== undefined && evaluator !== undefined) {
        const initial = initialSnapshot(rule, evaluator);
        if (isNested(durable) ? typeof initial === 'string' && JSON.stringify(durable) === initial : unchanged(durable, initial)) return initial;
      }
      const sameFiring = written !== undefined && ((flags & SLOT_WRITTEN_FIRING) !== 0) === firing;
      let json: string | undefined;
      let next: Snapshot;
      if (isNested(durable)) {
        // Serialised once: compared, written and kept as the snapshot.
        const durableJson = JSON.stringify(durable);
        if (sameFiring && durableJson === written) return written;
        if (durable === state) json = durableJson;
        next = flattened(durableJson);
      } else {
        if (sameFiring && unchanged(durable, written as Snapshot)) return written as Snapshot;
        next = snapshot(durable);
      }
      upsert.run(`${d.tenant}\u0000${d.deviceId}\u0000${ruleId}`, ruleId, json ?? JSON.stringify(state ?? null), firing ? 1 : 0, d.lastTs, now);
      return next;
    };
    /** The flags after a write: clean, and the firing flag as written. */
    const cleaned = (flags: number): number => (flags & ~(SLOT_DIRTY | SLOT_WRITTEN_FIRING)) | (flags & SLOT_FIRING ? SLOT_WRITTEN_FIRING : 0);
    let done = false;
    this.db.transaction(() => {
      for (let n = 1; ; n++) {
        const next = devices.next();
        if (next.done === true) {
          done = true;
          return;
        }
        const d = next.value;
        if (d.lastTs > d.writtenTs) {
          upsertTs.run(d.tenant, d.deviceId, d.lastTs, now);
          d.writtenTs = d.lastTs;
        }
        for (let i = 0; i < d.flags.length; i++) {
          const flags = d.flags[i] as number;
          if (!(flags & SLOT_DIRTY)) continue;
          const rule = d.rules[i] as { id: string };
          d.written[i] = writeSlot(d, rule.id, d.states[i], flags, d.written[i], d.evaluators[i], rule);
          d.flags[i] = cleaned(flags);
        }
        if (d.other) {
          for (const [ruleId, s] of d.other) {
            if (!(s.flags & SLOT_DIRTY)) continue;
            s.written = writeSlot(d, ruleId, s.state, s.flags, s.written, evaluatorOf(ruleId));
            s.flags = cleaned(s.flags);
          }
        }
        if ((n & 63) === 0 && performance.now() >= deadline) return;
      }
    })();
    return done;
  }
}

/** Per rule (its resolved object), the snapshot of its initial durable state without a resumed alert. */
const initialSnapshots = new WeakMap<object, Snapshot>();

function initialSnapshot(rule: object, evaluator: RuleEvaluator): Snapshot {
  let snap = initialSnapshots.get(rule);
  if (snap === undefined) {
    snap = snapshot(durableOf(evaluator, evaluator.initialState(rule as never)));
    initialSnapshots.set(rule, snap);
  }
  return snap;
}

function durableOf(evaluator: RuleEvaluator | undefined, state: unknown): unknown {
  return evaluator?.durable ? evaluator.durable(state) : state;
}

/**
 * A record of a written value, cheap to compare: a primitive as is, a flat object (primitive values only — the
 * `{ firingLevel, pendingSince }` of most rules) as a shallow copy without its undefined keys (one shared empty
 * object for the many states that hold nothing), anything nested as its JSON. Comparing against it allocates nothing
 * for the common states (issue 9: serialising every evaluated state every 2 s only to find it unchanged was most of
 * what the rule engine allocated).
 */
export type Snapshot = string | number | boolean | null | Readonly<Record<string, unknown>>;

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

export function snapshot(value: unknown): Snapshot {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') return value as number | boolean | string;
  const o = value as Record<string, unknown>;
  if (!isFlat(o)) return flattened(JSON.stringify(value));
  let flat: Record<string, unknown> | undefined;
  for (const k in o) if (o[k] !== undefined) (flat ??= {})[k] = o[k];
  return flat ?? EMPTY;
}

/** True when `value` would be written as it was when `snap` was taken (JSON equality; NaN counts as changed). */
export function unchanged(value: unknown, snap: Snapshot): boolean {
  if (value === undefined || value === null) return snap === null;
  if (typeof value !== 'object') return typeof snap !== 'object' && value === snap;
  const o = value as Record<string, unknown>;
  if (!isFlat(o)) return typeof snap === 'string' && JSON.stringify(value) === snap;
  if (snap === null || typeof snap !== 'object') return false;
  let n = 0;
  for (const k in o) {
    const v = o[k];
    if (v === undefined) continue;
    if (snap[k] !== v) return false;
    n++;
  }
  for (const _ in snap) n--;
  return n === 0;
}

/** An object or array with an object inside: kept as JSON. */
function isNested(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !isFlat(value as Record<string, unknown>);
}

/**
 * The same string, flat: a long JSON.stringify result is a tree of string pieces in V8, which kept as a snapshot
 * costs several times its length; reading a character makes V8 flatten it in place.
 */
function flattened(s: string): string {
  s.charCodeAt(0);
  return s;
}

/** A plain object whose values are all primitives (or undefined). */
function isFlat(o: Record<string, unknown>): boolean {
  if (Array.isArray(o)) return false;
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'object' && v !== null) return false;
  }
  return true;
}
