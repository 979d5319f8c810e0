import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { z } from 'zod';
import type { Reading } from '../../pipeline/reading.js';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { holdFor, type HoldState } from './hold-for.js';

/**
 * `expression`: a condition over several values of one reading, written in CEL (Common Expression Language, a
 * non-Turing-complete language made for evaluating untrusted policy text; the `@marcbachmann/cel-js` interpreter — rule
 * text is never handed to `eval` or `new Function`). Example: `spark_detected && hopper_temp_c > 60` (domain.md §7.2:
 * spark plus hopper over-temperature is level 1).
 *
 * Variables are the reading's fields (numbers, booleans) and tags (strings: `gas_type == "O2"`). A variable the reading
 * does not carry is an evaluation error unless CEL's logic makes it irrelevant (`false && x` is false, `true || x`
 * true); an error, or a result that is not a boolean, means the rule says nothing about this reading — never an
 * exception. The expression is parsed and type-checked when the rule loads; a mistake is reported at the `when` key.
 */
export interface ExpressionRule extends RuleBase {
  type: 'expression';
  /** CEL condition; true = firing. */
  when: string;
  level: AlertLevel;
  /** Field reported as the alert's value (for last / peak), e.g. `concentration_lel`. */
  valueField?: string;
  /** The condition must hold this long (device time) before the rule fires, ms. Default 0. */
  forMs: number;
}

export const DEFAULT_EXPRESSION = { forMs: 0 } as const;

/**
 * One environment for every rule. Structural limits keep a rule file from loading an expression that is costly to
 * parse or evaluate (CEL has no loops; these bound literal lists and nesting).
 */
const CEL = new Environment({
  unlistedVariablesAreDyn: true,
  limits: { maxAstNodes: 500, maxDepth: 32, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 },
});

/**
 * Compiled programs by expression text. Rule state must be plain JSON and the loader copies the schema's output (so
 * a WeakMap on the rule object would miss); the text is the natural key. Bounded: a long-running gateway that
 * hot-reloads edited rules many times drops the oldest entries (they are recompiled on demand).
 */
const PROGRAMS = new Map<string, ParseResult>();
const MAX_PROGRAMS = 1000;

type Compiled = { ok: true; program: ParseResult } | { ok: false; message: string };

/** First line of a cel-js error, with the column it points at. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { summary?: string; range?: { start: number } };
  const text = e.summary ?? e.message.split('\n')[0] ?? e.message;
  return e.range ? `${text} (at column ${e.range.start + 1} of the expression)` : text;
}

/** Parses and type-checks `when`, caching the program. */
export function compileExpression(when: string): Compiled {
  const cached = PROGRAMS.get(when);
  if (cached) return { ok: true, program: cached };
  let program: ParseResult;
  try {
    program = CEL.parse(when);
  } catch (err) {
    return { ok: false, message: `invalid CEL expression: ${errorText(err)}` };
  }
  const checked = program.check();
  if (!checked.valid) return { ok: false, message: `invalid CEL expression: ${errorText(checked.error)}` };
  if (checked.type !== 'bool' && checked.type !== 'dyn') return { ok: false, message: `must be a condition (bool), not ${checked.type}` };
  if (PROGRAMS.size >= MAX_PROGRAMS) PROGRAMS.delete(PROGRAMS.keys().next().value as string);
  PROGRAMS.set(when, program);
  return { ok: true, program };
}

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('expression'),
    when: z.string().min(1).max(2000),
    level: LEVEL,
    value_field: z.string().min(1).optional(),
    for: DURATION.default(DEFAULT_EXPRESSION.forMs),
  })
  .superRefine((r, ctx) => {
    const c = compileExpression(r.when);
    if (!c.ok) ctx.addIssue({ code: 'custom', path: ['when'], message: c.message });
  })
  .transform((r): Omit<ExpressionRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'expression',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    when: r.when,
    level: r.level,
    valueField: r.value_field,
    forMs: r.for,
  }));

export type ExpressionState = HoldState;

/**
 * The variables of the reading evaluated last: every expression rule of a kind sees the same reading in turn, so they
 * share one object instead of copying the reading's tags and fields each (issue 9). A reading is never changed once
 * the pipeline has built it, so the cache cannot go stale.
 */
let lastVars: { reading: Reading; vars: Record<string, unknown> } | undefined;

function varsOf(reading: Reading): Record<string, unknown> {
  if (lastVars?.reading !== reading) {
    // Null prototype: `constructor`, `toString` … are unknown variables, not Object.prototype members.
    lastVars = { reading, vars: Object.assign(Object.create(null) as Record<string, unknown>, reading.tags, reading.fields) };
  }
  return lastVars.vars;
}

/** The condition's truth for one reading; undefined when it cannot be decided (missing variable, type error). */
function decide(rule: ExpressionRule, reading: Reading): boolean | undefined {
  const c = compileExpression(rule.when);
  if (!c.ok) return undefined;
  try {
    const out: unknown = c.program(varsOf(reading));
    return typeof out === 'boolean' ? out : undefined;
  } catch {
    // On the hot path a failure is an outcome, not an exception (STYLE.md): the rule says nothing.
    return undefined;
  }
}

export const expressionEvaluator: RuleEvaluator<ExpressionRule, ExpressionState> = {
  type: 'expression',
  schema,
  // `pendingSince` present from the start (undefined): set on every clear, it would otherwise give each state an
  // out-of-object property store (issue 9: memory). JSON leaves undefined out, so the stored state is the same.
  initialState: (_rule, resume) => ({ firingLevel: resume?.level, pendingSince: undefined }),
  evaluate(rule, state, reading): EvalResult | undefined {
    const holds = decide(rule, reading);
    if (holds === undefined) return undefined;
    const v = rule.valueField === undefined ? undefined : reading.fields[rule.valueField];
    return holdFor(state, holds ? rule.level : undefined, rule.forMs, reading.ts, typeof v === 'number' ? v : undefined);
  },
};
