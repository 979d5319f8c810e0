import { z } from 'zod';
import type { Reading } from '../../pipeline/reading.js';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';

/** One level of a threshold rule. */
export interface ThresholdLevel {
  level: AlertLevel;
  /** Fires when the value reaches this (≥ for `above`, ≤ for `below`). */
  value: number;
  /** Hysteresis: once firing, holds until the value passes back over this. Defaults to `value`. */
  clear: number;
  title?: string;
}

export interface ThresholdRule extends RuleBase {
  type: 'threshold';
  /** Fields looked at; with several (cable temperature channels) the worst present value counts. */
  fields: string[];
  direction: 'above' | 'below';
  /** Most severe first (sorted on load). */
  levels: ThresholdLevel[];
  /** The condition must hold this long (device time) before the rule fires, ms. Default 0. */
  forMs: number;
}

export const DEFAULT_THRESHOLD = { direction: 'above', forMs: 0 } as const;

const LEVEL_SCHEMA = z.strictObject({
  level: LEVEL,
  value: z.number(),
  clear: z.number().optional(),
  title: z.string().min(1).max(128).optional(),
});

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('threshold'),
    field: z.string().min(1).optional(),
    fields: z.array(z.string().min(1)).min(1).optional(),
    direction: z.enum(['above', 'below']).default(DEFAULT_THRESHOLD.direction),
    levels: z.array(LEVEL_SCHEMA).min(1),
    for: DURATION.default(DEFAULT_THRESHOLD.forMs),
  })
  .superRefine((r, ctx) => {
    if ((r.field === undefined) === (r.fields === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: 'give exactly one of field or fields' });
    }
    const seen = new Set<number>();
    r.levels.forEach((l, i) => {
      if (seen.has(l.level)) ctx.addIssue({ code: 'custom', path: ['levels', i, 'level'], message: `level ${l.level} appears twice` });
      seen.add(l.level);
      const clear = l.clear ?? l.value;
      if (r.direction === 'above' ? clear > l.value : clear < l.value) {
        ctx.addIssue({ code: 'custom', path: ['levels', i, 'clear'], message: `clear must be ${r.direction === 'above' ? '≤' : '≥'} value for direction ${r.direction}` });
      }
    });
    const sorted = [...r.levels].sort((a, b) => a.level - b.level);
    for (let i = 1; i < sorted.length; i++) {
      const more = sorted[i - 1] as z.output<typeof LEVEL_SCHEMA>;
      const less = sorted[i] as z.output<typeof LEVEL_SCHEMA>;
      const ok = r.direction === 'above' ? more.value > less.value : more.value < less.value;
      if (!ok) {
        ctx.addIssue({ code: 'custom', path: ['levels'], message: `level ${more.level} must be ${r.direction === 'above' ? 'above' : 'below'} level ${less.level} (a more severe level needs a worse value)` });
      }
    }
  })
  .transform((r): Omit<ThresholdRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'threshold',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: r.direction === 'above' ? 'higher' : 'lower',
    fields: r.fields ?? [r.field as string],
    direction: r.direction,
    levels: r.levels.map((l) => ({ level: l.level, value: l.value, clear: l.clear ?? l.value, title: l.title })).sort((a, b) => a.level - b.level),
    forMs: r.for,
  }));

export interface ThresholdState {
  /** Level while firing, undefined while not. */
  firingLevel?: AlertLevel;
  /** Device time the condition started to hold, while pending. */
  pendingSince?: number;
}

/** The worst present value among the rule's fields, or undefined when none is present. */
function pick(rule: ThresholdRule, reading: Reading): number | undefined {
  let out: number | undefined;
  for (const f of rule.fields) {
    const v = reading.fields[f];
    if (typeof v !== 'number') continue;
    if (out === undefined || (rule.direction === 'above' ? v > out : v < out)) out = v;
  }
  return out;
}

/** Most severe level whose condition holds, taking hysteresis into account for levels at or below the firing one. */
function levelFor(rule: ThresholdRule, v: number, firing: AlertLevel | undefined): ThresholdLevel | undefined {
  const above = rule.direction === 'above';
  for (const l of rule.levels) {
    const reached = above ? v >= l.value : v <= l.value;
    const held = firing !== undefined && firing <= l.level && (above ? v >= l.clear : v <= l.clear);
    if (reached || held) return l;
  }
  return undefined;
}

/** `threshold`: several levels (most severe wins), hysteresis per level, and a `for` duration. */
export const thresholdEvaluator: RuleEvaluator<ThresholdRule, ThresholdState> = {
  type: 'threshold',
  schema,
  // `pendingSince` present from the start (undefined): set on every clear, it would otherwise give each state an
  // out-of-object property store (issue 9: memory). JSON leaves undefined out, so the stored state is the same.
  initialState: (_rule, resume) => ({ firingLevel: resume?.level, pendingSince: undefined }),
  evaluate(rule, state, reading): EvalResult | undefined {
    const v = pick(rule, reading);
    if (v === undefined) return undefined;
    const l = levelFor(rule, v, state.firingLevel);
    if (!l) {
      state.firingLevel = undefined;
      state.pendingSince = undefined;
      return { status: 'clear', value: v };
    }
    if (state.firingLevel === undefined) {
      state.pendingSince ??= reading.ts;
      if (reading.ts - state.pendingSince < rule.forMs) return { status: 'pending', level: l.level, value: v };
      state.pendingSince = undefined;
    }
    state.firingLevel = l.level;
    return { status: 'firing', level: l.level, value: v, title: l.title };
  },
};
