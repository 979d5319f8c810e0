import { z } from 'zod';
import type { FieldValue, Reading } from '../../pipeline/reading.js';
import { LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';

/** Comparison of a `repeating` rule: `field <op> value`. */
export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';

/**
 * `repeating`: the rule fires after `count` consecutive readings breach `field <op> value` (ThingsBoard's REPEATING
 * condition) — for signals where one sample is noise but a run is an event. Any reading that carries the field and
 * does not breach clears the rule and resets the count.
 */
export interface RepeatingRule extends RuleBase {
  type: 'repeating';
  field: string;
  op: CompareOp;
  /** Number, or boolean (then only `==` / `!=`). */
  value: number | boolean;
  /** Consecutive breaching readings needed to fire (1 = the first). Default 3. */
  count: number;
  level: AlertLevel;
}

export const DEFAULT_REPEATING = { count: 3 } as const;

const OPS = ['>', '>=', '<', '<=', '==', '!='] as const;

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('repeating'),
    field: z.string().min(1),
    op: z.enum(OPS, { message: `must be one of ${OPS.join(' ')}` }),
    value: z.union([z.number(), z.boolean()]),
    count: z.int().min(1).max(10_000).default(DEFAULT_REPEATING.count),
    level: LEVEL,
  })
  .superRefine((r, ctx) => {
    if (typeof r.value === 'boolean' && r.op !== '==' && r.op !== '!=') {
      ctx.addIssue({ code: 'custom', path: ['op'], message: 'a boolean value takes == or != only' });
    }
  })
  .transform((r): Omit<RepeatingRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'repeating',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: r.op === '<' || r.op === '<=' ? 'lower' : 'higher',
    field: r.field,
    op: r.op,
    value: r.value,
    count: r.count,
    level: r.level,
  }));

export interface RepeatingState {
  /** Consecutive breaching readings so far (capped at the rule's count). */
  count: number;
  /** Device time of the last counted breach: a re-sent point (same time) is not counted twice. */
  lastTs?: number;
}

function breaches(op: CompareOp, v: FieldValue, limit: number | boolean): boolean {
  if (op === '==') return v === limit;
  if (op === '!=') return v !== limit;
  if (typeof v !== 'number' || typeof limit !== 'number') return false; // the schema allows booleans with == / != only
  if (op === '>') return v > limit;
  if (op === '>=') return v >= limit;
  if (op === '<') return v < limit;
  return v <= limit;
}

export const repeatingEvaluator: RuleEvaluator<RepeatingRule, RepeatingState> = {
  type: 'repeating',
  schema,
  // Resuming an active alert: the run is already complete, so the next breach fires at once.
  initialState: (rule, resume) => ({ count: resume ? rule.count : 0 }),
  evaluate(rule, state, reading: Reading): EvalResult | undefined {
    const v = reading.fields[rule.field];
    // A field of the other type (number vs boolean) says nothing, like a missing one.
    if (v === undefined || typeof v !== typeof rule.value) return undefined;
    const value = typeof v === 'number' ? v : undefined;
    if (!breaches(rule.op, v, rule.value)) {
      state.count = 0;
      state.lastTs = undefined;
      return { status: 'clear', value };
    }
    if (state.lastTs !== reading.ts) state.count = Math.min(state.count + 1, rule.count);
    state.lastTs = reading.ts;
    if (state.count < rule.count) return { status: 'pending', level: rule.level, value };
    return { status: 'firing', level: rule.level, value };
  },
};
