import { z } from 'zod';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { holdFor, type HoldState } from './hold-for.js';

/**
 * `rate_of_change`: a value rising (or falling) faster than a limit per minute — a cable joint heating up long before
 * it reaches the absolute set point. The rate is the change from the *anchor* (the newest kept sample at least `window`
 * older than the reading) to the reading, divided by the time between them: always measured over ≥ `window` of device
 * time, over a longer span when the device reports less often. Until a field has an anchor the rule says nothing.
 * With several fields (cable temperature channels) the worst rate counts. Fires while the rate exceeds the limit,
 * clears when it no longer does.
 */
export interface RateOfChangeRule extends RuleBase {
  type: 'rate_of_change';
  fields: string[];
  direction: 'rise' | 'fall';
  /** Limit, field units per minute (always positive; `fall` compares the drop). */
  perMin: number;
  /** Shortest span the rate is measured over, ms. Default 60 000 (1 min). */
  windowMs: number;
  /** Samples kept per field; older ones are thinned, then dropped. Default 64. */
  maxSamples: number;
  level: AlertLevel;
}

export const DEFAULT_RATE_OF_CHANGE = { windowMs: 60_000, maxSamples: 64 } as const;

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('rate_of_change'),
    field: z.string().min(1).optional(),
    fields: z.array(z.string().min(1)).min(1).optional(),
    rise_per_min: z.number().positive().optional(),
    fall_per_min: z.number().positive().optional(),
    window: DURATION.default(DEFAULT_RATE_OF_CHANGE.windowMs),
    max_samples: z.int().min(4).max(1024).default(DEFAULT_RATE_OF_CHANGE.maxSamples),
    level: LEVEL,
  })
  .superRefine((r, ctx) => {
    if ((r.field === undefined) === (r.fields === undefined)) ctx.addIssue({ code: 'custom', path: ['field'], message: 'give exactly one of field or fields' });
    if ((r.rise_per_min === undefined) === (r.fall_per_min === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['rise_per_min'], message: 'give exactly one of rise_per_min or fall_per_min' });
    }
    if (r.window <= 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'must be longer than 0' });
  })
  .transform((r): Omit<RateOfChangeRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'rate_of_change',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    // The value is the signed rate per minute: a steeper rise (or fall) is worse.
    worse: r.fall_per_min === undefined ? 'higher' : 'lower',
    fields: r.fields ?? [r.field as string],
    direction: r.fall_per_min === undefined ? 'rise' : 'fall',
    perMin: (r.rise_per_min ?? r.fall_per_min) as number,
    windowMs: r.window,
    maxSamples: r.max_samples,
    level: r.level,
  }));

/** `[device time ms, value]`, oldest first. */
type Sample = [number, number];

export interface RateOfChangeState extends HoldState {
  /** Kept samples per field. */
  samples: Record<string, Sample[]>;
}

/** Adds a sample to a field's buffer, keeps it bounded, and returns the rate per minute once an anchor exists. */
function addAndRate(rule: RateOfChangeRule, buf: Sample[], ts: number, v: number): number | undefined {
  const last = buf[buf.length - 1];
  const beforeLast = buf[buf.length - 2];
  // Thinning: a sample closer than minGap to the one before the last replaces the last, so a fast reporter keeps at
  // most about maxSamples over the window instead of dropping the anchor off the front.
  const minGapMs = rule.windowMs / (rule.maxSamples - 3);
  if (last && (last[0] === ts || (beforeLast && ts - beforeLast[0] < minGapMs))) buf[buf.length - 1] = [ts, v];
  else buf.push([ts, v]);
  // Everything older than the anchor is of no further use.
  let anchor = -1;
  for (let i = buf.length - 1; i >= 0; i--) {
    if ((buf[i] as Sample)[0] <= ts - rule.windowMs) {
      anchor = i;
      break;
    }
  }
  if (anchor > 0) buf.splice(0, anchor);
  while (buf.length > rule.maxSamples) buf.shift();
  const a = buf[0] as Sample;
  if (ts - a[0] < rule.windowMs) return undefined;
  return ((v - a[1]) / (ts - a[0])) * 60_000;
}

export const rateOfChangeEvaluator: RuleEvaluator<RateOfChangeRule, RateOfChangeState> = {
  type: 'rate_of_change',
  schema,
  initialState: (_rule, resume) => ({ firingLevel: resume?.level, pendingSince: undefined, samples: {} }),
  evaluate(rule, state, reading): EvalResult | undefined {
    const rise = rule.direction === 'rise';
    let worst: number | undefined;
    for (const f of rule.fields) {
      const v = reading.fields[f];
      if (typeof v !== 'number') continue;
      const rate = addAndRate(rule, (state.samples[f] ??= []), reading.ts, v);
      if (rate !== undefined && (worst === undefined || (rise ? rate > worst : rate < worst))) worst = rate;
    }
    if (worst === undefined) return undefined;
    const exceeds = rise ? worst > rule.perMin : -worst > rule.perMin;
    return holdFor(state, exceeds ? rule.level : undefined, 0, reading.ts, Math.round(worst * 1000) / 1000);
  },
};
