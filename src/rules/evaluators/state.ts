import { z } from 'zod';
import type { Reading } from '../../pipeline/reading.js';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { holdFor, type HoldState } from './hold-for.js';

/** One mapped bit of an integer flag word (JT/T 808 `alarm_bits`, GB/T 26875.3 status words). */
export interface StateBit {
  /** Bit index, 0 = least significant. */
  bit: number;
  level: AlertLevel;
  /** Title of the alert while this bit decides it (defaults to the rule's title). */
  title?: string;
}

/**
 * `state`: a value or flag the device itself reports — smoke `alarm: true`, gas `sensor_fault: true`, dust
 * `vent_state: ruptured`, a vehicle's alarm bit word. Either `equals` (one value → the rule's level) or `bits` (every
 * mapped bit that is set is a candidate; the most severe wins; no mapped bit set clears). A reading without the field
 * says nothing, so event-only devices keep their alert until they report the value again.
 */
export interface StateRule extends RuleBase {
  type: 'state';
  field: string;
  /** The value that fires: boolean or number (reading fields) or string (reading tags, the payload's enums). */
  equals?: boolean | number | string;
  /** Level for `equals`. */
  level?: AlertLevel;
  /** Mapped bits, most severe first (sorted on load; listing order breaks ties). */
  bits?: StateBit[];
  /**
   * Boolean field that, true in a reading without `field`, clears the rule: event-style devices that announce the end
   * of a state (smoke `alarm_cleared`) instead of reporting `alarm: false`.
   */
  clearField?: string;
  /** The state must hold this long (device time) before the rule fires, ms. Default 0. */
  forMs: number;
}

export const DEFAULT_STATE = { forMs: 0 } as const;

/** 2^53: every integer below it is exact in a double, so bits 0–52 can be read with arithmetic. */
const MAX_BIT = 52;

const BIT_SCHEMA = z.strictObject({
  bit: z.int().min(0).max(MAX_BIT),
  level: LEVEL,
  title: z.string().min(1).max(128).optional(),
});

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('state'),
    field: z.string().min(1),
    equals: z.union([z.boolean(), z.number(), z.string().min(1)]).optional(),
    level: LEVEL.optional(),
    bits: z.array(BIT_SCHEMA).min(1).optional(),
    clear_field: z.string().min(1).optional(),
    for: DURATION.default(DEFAULT_STATE.forMs),
  })
  .superRefine((r, ctx) => {
    if ((r.equals === undefined) === (r.bits === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['equals'], message: 'give exactly one of equals (with level) or bits' });
    }
    if (r.equals !== undefined && r.level === undefined) ctx.addIssue({ code: 'custom', path: ['level'], message: 'equals needs a level (1–4)' });
    if (r.bits !== undefined && r.level !== undefined) ctx.addIssue({ code: 'custom', path: ['level'], message: 'with bits each bit has its own level' });
    const seen = new Set<number>();
    r.bits?.forEach((b, i) => {
      if (seen.has(b.bit)) ctx.addIssue({ code: 'custom', path: ['bits', i, 'bit'], message: `bit ${b.bit} appears twice` });
      seen.add(b.bit);
    });
  })
  .transform((r): Omit<StateRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'state',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    field: r.field,
    equals: r.equals,
    level: r.level,
    // Array.prototype.sort is stable: among bits of one level the first listed wins.
    bits: r.bits?.map((b) => ({ bit: b.bit, level: b.level, title: b.title })).sort((a, b) => a.level - b.level),
    clearField: r.clear_field,
    forMs: r.for,
  }));

export type StateState = HoldState;

/** Whether bit `bit` of a non-negative integer is set (arithmetic, not `>>`, so words ≥ 2^31 work). */
export function bitSet(word: number, bit: number): boolean {
  return Math.floor(word / 2 ** bit) % 2 === 1;
}

/**
 * What the reading says — the level (and title) it is in, no level when it is not in that state — handed to
 * `holdFor`; undefined when the reading says nothing. No intermediate object per reading (issue 9).
 */
function judge(rule: StateRule, state: StateState, reading: Reading): EvalResult | undefined {
  const got = typeof rule.equals === 'string' ? reading.tags[rule.field] : reading.fields[rule.field];
  if (got === undefined) {
    return rule.clearField !== undefined && reading.fields[rule.clearField] === true ? holdFor(state, undefined, rule.forMs, reading.ts) : undefined;
  }
  if (rule.bits) {
    if (typeof got !== 'number' || !Number.isSafeInteger(got) || got < 0) return undefined;
    const hit = rule.bits.find((b) => bitSet(got, b.bit));
    return holdFor(state, hit?.level, rule.forMs, reading.ts, got, hit?.title);
  }
  // A value of another type (a number where a boolean is expected) says nothing, like a missing one.
  if (typeof got !== typeof rule.equals) return undefined;
  return holdFor(state, got === rule.equals ? rule.level : undefined, rule.forMs, reading.ts, typeof got === 'number' ? got : undefined);
}

export const stateEvaluator: RuleEvaluator<StateRule, StateState> = {
  type: 'state',
  schema,
  // `pendingSince` present from the start (undefined): set on every clear, it would otherwise give each state an
  // out-of-object property store (issue 9: memory). JSON leaves undefined out, so the stored state is the same.
  initialState: (_rule, resume) => ({ firingLevel: resume?.level, pendingSince: undefined }),
  evaluate(rule, state, reading): EvalResult | undefined {
    return judge(rule, state, reading);
  },
};
