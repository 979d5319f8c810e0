import type { FieldValue, Reading } from '../../../src/pipeline/reading.js';
import type { EvalContext, EvalResult, RuleBase, RuleEvaluator } from '../../../src/rules/types.js';
import { outcome } from './harness.js';

/** Synthetic JT/T 808 traces for the vehicle rule types, with times written in Beijing time. */

const BJ = /^(?:(\d{1,2}) )?(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** `[D ]HH:MM[:SS]` Beijing time on day D of March 2025 (default the 15th) → epoch ms. */
export function bj(local: string): number {
  const m = BJ.exec(local);
  if (!m) throw new Error(`bad Beijing time ${local}`);
  return Date.UTC(2025, 2, Number(m[1] ?? 15), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)) - 8 * 3_600_000;
}

/** `D HH:MM` Beijing time of an epoch-ms device time (the inverse of bj, to the minute). */
export function bjLabel(ts: number): string {
  const d = new Date(ts + 8 * 3_600_000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Context of a vehicle of class `vehicleClass` (none when undefined) registered in `region`. */
export function vehicleCtx(vehicleClass: string | undefined, region = '510104'): EvalContext {
  const attrs: Record<string, string> = vehicleClass === undefined ? { plate: '川A12345' } : { plate: '川A12345', vehicle_class: vehicleClass };
  return { device: { tenant: 't1', deviceId: '013912345678', kind: 'vehicle', region, heartbeatS: 30, attrs }, now: bj('12:00'), observedSince: bj('00:00') };
}

export function vehicleReading(ts: number, fields: Record<string, FieldValue>): Reading {
  return { tenant: 't1', deviceId: '013912345678', kind: 'vehicle', channel: 'telemetry', ts, receivedAt: ts, fields, tags: {} };
}

/** One reading: Beijing time, fields, and the outcome (`firing:2`, `pending:3`, `clear`, `-`), plus the title if given. */
export interface VStep {
  at: string;
  f: Record<string, FieldValue>;
  /** Round-trip the state through JSON before this reading, as the engine's persistence does across a restart. */
  restart?: boolean;
  want: string;
  title?: string;
}

const label = (want: string, title: string | undefined, withTitle: boolean): string => (withTitle ? `${want} ${title ?? ''}` : want);

/** Evaluates the steps over one state; returns outcome (and title where the step names one) per step. */
export function runSteps<C extends RuleBase, S>(evaluator: RuleEvaluator<C, S>, rule: C, steps: VStep[], ctx: EvalContext, state = evaluator.initialState(rule)): string[] {
  let s = state;
  return steps.map((step) => {
    if (step.restart) s = JSON.parse(JSON.stringify(s)) as S;
    const r: EvalResult | undefined = evaluator.evaluate(rule, s, vehicleReading(bj(step.at), step.f), ctx);
    return label(outcome(r), r?.title, step.title !== undefined);
  });
}

export const vwants = (steps: VStep[]): string[] => steps.map((s) => label(s.want, s.title, s.title !== undefined));
