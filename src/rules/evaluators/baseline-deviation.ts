import { z } from 'zod';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalContext, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { holdFor, type HoldState } from './hold-for.js';

/**
 * `baseline_deviation`: a value drifting more than `deviation_pct` % from the device's own baseline — a dust
 * collector's filter pressure drop (AQ 4273-2016 §5.1.4 b: alarm when ΔP deviates > 20 % from the value recorded in
 * the first ≤ 8 h after installation or a bag change; domain.md D2).
 *
 * How the baseline is chosen (the standard fixes the window, not the statistic):
 * - A fixed `baseline` in the rule wins (one value for every device of the kind — rarely right; mostly for tests).
 * - Otherwise the rule learns it per device: the mean of the readings in the first `baseline_window` of device time
 *   after the first counted reading. The mean rather than the last value or the median because it is exact in O(1)
 *   state (sum and count) and a new bag's ΔP is steady over those hours. If the window closes with fewer than
 *   `min_samples` readings, learning goes on until there are that many. While learning the rule says nothing.
 * - `relearn_attr` names a device attribute (e.g. `bag_changed_at`): when its value changes in the registry, the
 *   baseline is forgotten, an active deviation clears, and learning starts again — the "bag change" of the clause.
 * - `only_while` names a boolean field (e.g. `fan_running`): readings while it was last reported false neither teach
 *   nor alarm (ΔP of a stopped fan is 0, which is not a clogged or burst bag). The last reported value is remembered;
 *   a device that never reports it counts as running.
 */
export interface BaselineDeviationRule extends RuleBase {
  type: 'baseline_deviation';
  field: string;
  /** Fires when |value − baseline| / |baseline| exceeds this, %. Default 20. */
  deviationPct: number;
  /** Once firing, holds while the deviation exceeds this, % (≤ deviationPct). Default: deviationPct. */
  clearPct: number;
  /** Learning window, device time, ms. Default 28 800 000 (8 h). */
  baselineWindowMs: number;
  /** Fewest readings a learned baseline rests on. Default 5. */
  minSamples: number;
  /** Fixed baseline (field units); skips learning. */
  baseline?: number;
  onlyWhile?: string;
  relearnAttr?: string;
  level: AlertLevel;
  /** The deviation must last this long (device time) before the rule fires, ms. Default 0. */
  forMs: number;
}

export const DEFAULT_BASELINE_DEVIATION = { deviationPct: 20, baselineWindowMs: 8 * 3_600_000, minSamples: 5, forMs: 0 } as const;

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('baseline_deviation'),
    field: z.string().min(1),
    deviation_pct: z.number().positive().default(DEFAULT_BASELINE_DEVIATION.deviationPct),
    clear_pct: z.number().nonnegative().optional(),
    baseline_window: DURATION.default(DEFAULT_BASELINE_DEVIATION.baselineWindowMs),
    min_samples: z.int().min(1).max(1_000_000).default(DEFAULT_BASELINE_DEVIATION.minSamples),
    baseline: z.number().refine((v) => v !== 0, { message: 'must not be 0 (the deviation is relative to it)' }).optional(),
    only_while: z.string().min(1).optional(),
    relearn_attr: z.string().min(1).optional(),
    level: LEVEL,
    for: DURATION.default(DEFAULT_BASELINE_DEVIATION.forMs),
  })
  .superRefine((r, ctx) => {
    if (r.clear_pct !== undefined && r.clear_pct > r.deviation_pct) ctx.addIssue({ code: 'custom', path: ['clear_pct'], message: 'clear_pct must be ≤ deviation_pct' });
  })
  .transform((r): Omit<BaselineDeviationRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'baseline_deviation',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    field: r.field,
    deviationPct: r.deviation_pct,
    clearPct: r.clear_pct ?? r.deviation_pct,
    baselineWindowMs: r.baseline_window,
    minSamples: r.min_samples,
    baseline: r.baseline,
    onlyWhile: r.only_while,
    relearnAttr: r.relearn_attr,
    level: r.level,
    forMs: r.for,
  }));

export interface BaselineDeviationState extends HoldState {
  /** Device time of the first reading learned from. */
  learnStart?: number;
  sum: number;
  count: number;
  /** Learned baseline, once learning is over. */
  baseline?: number;
  /** Last reported value of the `only_while` field. */
  running?: boolean;
  /** Value of the `relearn_attr` device attribute the baseline belongs to. */
  epoch?: string;
}

function forget(state: BaselineDeviationState): void {
  state.learnStart = undefined;
  state.sum = 0;
  state.count = 0;
  state.baseline = undefined;
}

/** True when the device's relearn attribute changed since the baseline was learned (then learning restarts). */
function relearnDue(rule: BaselineDeviationRule, state: BaselineDeviationState, ctx: EvalContext): boolean {
  if (rule.relearnAttr === undefined) return false;
  const epoch = String(ctx.device.attrs[rule.relearnAttr] ?? '');
  const due = state.epoch !== undefined && state.epoch !== epoch;
  state.epoch = epoch;
  return due;
}

/** Adds a reading to the learning sums; returns the baseline once the window has passed with enough readings. */
function learn(rule: BaselineDeviationRule, state: BaselineDeviationState, ts: number, v: number): number | undefined {
  state.learnStart ??= ts;
  if (ts - state.learnStart < rule.baselineWindowMs || state.count < rule.minSamples) {
    state.sum += v;
    state.count += 1;
    return undefined;
  }
  state.baseline = state.sum / state.count;
  return state.baseline;
}

export const baselineDeviationEvaluator: RuleEvaluator<BaselineDeviationRule, BaselineDeviationState> = {
  type: 'baseline_deviation',
  schema,
  initialState: (_rule, resume) => ({ firingLevel: resume?.level, pendingSince: undefined, sum: 0, count: 0 }),
  evaluate(rule, state, reading, ctx): EvalResult | undefined {
    if (rule.onlyWhile !== undefined) {
      const gate = reading.fields[rule.onlyWhile];
      if (typeof gate === 'boolean') state.running = gate;
    }
    const relearned = relearnDue(rule, state, ctx);
    if (relearned) forget(state);
    const raw = reading.fields[rule.field];
    const v = typeof raw === 'number' && state.running !== false ? raw : undefined;
    let baseline = rule.baseline ?? state.baseline;
    if (baseline === undefined && v !== undefined) baseline = learn(rule, state, reading.ts, v);
    // A learned 0 (a sensor stuck at zero) gives no relative scale.
    if (v === undefined || baseline === undefined || baseline === 0) {
      // A bag change ends an active deviation: it was measured against the old bags.
      const active = state.firingLevel !== undefined || state.pendingSince !== undefined;
      return relearned && active ? holdFor(state, undefined, rule.forMs, reading.ts) : undefined;
    }
    const pct = (Math.abs(v - baseline) / Math.abs(baseline)) * 100;
    const limit = state.firingLevel === undefined ? rule.deviationPct : rule.clearPct;
    return holdFor(state, pct > limit ? rule.level : undefined, rule.forMs, reading.ts, Math.round(pct * 10) / 10);
  },
};
