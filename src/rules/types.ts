import type { z } from 'zod';
import type { KindName } from '../kinds/kind.js';
import type { Reading } from '../pipeline/reading.js';
import type { Device } from '../registry/device-registry.js';

/** Alert levels of domain.md §7.1: 1 红 red (most severe) … 4 蓝 blue. */
export type AlertLevel = 1 | 2 | 3 | 4;

export const LEVEL_COLOURS: Record<AlertLevel, { en: string; zh: string }> = {
  1: { en: 'red', zh: '红色' },
  2: { en: 'orange', zh: '橙色' },
  3: { en: 'yellow', zh: '黄色' },
  4: { en: 'blue', zh: '蓝色' },
};

/** Tri-state outcome of one evaluation (ThingsBoard's AlarmRuleState): not yet, pending a duration, firing. */
export type EvalStatus = 'clear' | 'pending' | 'firing';

export interface EvalResult {
  status: EvalStatus;
  /** Level while firing (or the level pending). */
  level?: AlertLevel;
  /** The value the rule looked at (for count / last / peak). */
  value?: number;
  /** Level-specific title, when the rule gives one. */
  title?: string;
}

/** What every rule has, whatever its type. */
export interface RuleBase {
  id: string;
  type: string;
  kind: KindName;
  /** Operator-facing title (Simplified Chinese). */
  title: string;
  /** The standard clause the rule enforces, e.g. `GB/T 50493-2019 §5.5`. */
  standard: string;
  description?: string;
  enabled: boolean;
  /** `higher` when a larger value is worse (peak = max), `lower` when a smaller one is (peak = min). */
  worse: 'higher' | 'lower';
  /** File the rule came from (for messages). */
  source: string;
}

/** What an evaluation may look at besides the reading and its own state. */
export interface EvalContext {
  /** The registered device: `attrs.vehicle_class`, `heartbeatS`, `region`, … */
  device: Device;
  /** Gateway clock, epoch ms (device time is `reading.ts`). */
  now: number;
  /**
   * Gateway time since which ingest has been continuous (the start, or the end of the last ingest stall): silence
   * before it says nothing about a device.
   */
  observedSince: number;
}

/**
 * The contract every rule type implements: its own config schema (defaults beside it), a fresh per-device state,
 * and a pure evaluation over that state. `evaluate` returns undefined when the reading says nothing to the rule.
 * State must be plain JSON (numbers, strings, booleans, arrays, objects): the engine persists it across restarts.
 */
export interface RuleEvaluator<C extends RuleBase = RuleBase, S = unknown> {
  type: string;
  /** Schema of the rule's YAML object (type-specific keys and the common ones); its output lacks `kind` and `source`. */
  schema: z.ZodType<Omit<C, 'kind' | 'source'>>;
  /** Fresh state; `resume` when an alert of this rule is still active for the device (after a restart). */
  initialState(rule: C, resume?: { level: AlertLevel }): S;
  evaluate(rule: C, state: S, reading: Reading, ctx: EvalContext): EvalResult | undefined;
  /**
   * Time-driven rules only (e.g. `offline`): called every engine tick for every device of the rule's kind, without a
   * reading. Returns undefined when nothing changed.
   */
  tick?(rule: C, state: S, ctx: EvalContext): EvalResult | undefined;
  /**
   * The part of the state a restart needs, when that is less than all of it. The engine writes a device's state for
   * the rule only when this (default: the whole state) or the firing flag changed since it last wrote it, so a value
   * that only matters within one process run does not cost a write per reading (issue 9). Plain JSON, like the state.
   */
  durable?(state: S): unknown;
}
