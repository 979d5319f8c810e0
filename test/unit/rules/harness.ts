import type { KindName } from '../../../src/kinds/kind.js';
import type { FieldValue, Reading } from '../../../src/pipeline/reading.js';
import type { EvalContext, EvalResult, RuleBase, RuleEvaluator } from '../../../src/rules/types.js';

/** Synthetic readings and a table runner for the rule-type tests (device time, no wall clock). */

export const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

export function ctx(kind: KindName = 'gas', attrs: Record<string, string | number | boolean> = {}): EvalContext {
  return { device: { tenant: 't1', deviceId: 'd1', kind, heartbeatS: 60, attrs }, now: T0, observedSince: T0 };
}

export function reading(ts: number, fields: Record<string, FieldValue>, tags: Record<string, string> = {}, kind: KindName = 'gas'): Reading {
  return { tenant: 't1', deviceId: 'd1', kind, channel: 'telemetry', ts, receivedAt: ts, fields, tags };
}

/** A rule as the loader builds it: the type's schema output plus kind and source. */
export function buildRule<C extends RuleBase>(evaluator: RuleEvaluator<C, unknown>, yaml: Record<string, unknown>, kind: KindName = 'gas'): C {
  const parsed = evaluator.schema.parse({ id: 'test.rule', type: evaluator.type, title: '测试', standard: 'test', ...yaml });
  return { ...parsed, kind, source: 'test.yaml' } as C;
}

/** `firing:2`, `pending:3`, `clear`, or `-` for "the reading says nothing to the rule". */
export function outcome(r: EvalResult | undefined): string {
  if (!r) return '-';
  return r.status === 'clear' ? 'clear' : `${r.status}:${r.level}`;
}

/**
 * One reading of a table: `s` device seconds from T0 (default: the step index), `f` fields, `t` tags, and what the
 * rule should say. `restart` round-trips the state through JSON before this reading, as the engine's persistence does.
 */
export interface Step {
  s?: number;
  f?: Record<string, FieldValue>;
  t?: Record<string, string>;
  restart?: boolean;
  want: string;
}

export interface RunOptions<S> {
  state?: S;
  ctx?: EvalContext;
  /** Called with each result (e.g. to collect values or titles). */
  each?: (r: EvalResult | undefined) => void;
}

/** Evaluates the steps in order over one state and returns the outcomes. */
export function run<C extends RuleBase, S>(evaluator: RuleEvaluator<C, S>, rule: C, steps: Step[], opts: RunOptions<S> = {}): string[] {
  let state = opts.state ?? evaluator.initialState(rule);
  const c = opts.ctx ?? ctx(rule.kind);
  return steps.map((step, i) => {
    if (step.restart) state = JSON.parse(JSON.stringify(state)) as S;
    const r = evaluator.evaluate(rule, state, reading(T0 + (step.s ?? i) * 1000, step.f ?? {}, step.t ?? {}, rule.kind), c);
    opts.each?.(r);
    return outcome(r);
  });
}

/** The `want` column of a table. */
export const wants = (steps: Step[]): string[] => steps.map((s) => s.want);
