import { z } from 'zod';
import type { Reading } from '../../pipeline/reading.js';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { byClass, checkWindow, DAILY_WINDOW_SHAPE, DAY_MS, durationZh, overlapDailyWindowMs, VEHICLE_CLASS, vehicleClassOf, type DailyWindow } from './vehicle-common.js';

/** Driving-time limits of one vehicle class; an omitted limit is not checked. */
export interface DrivingLimits {
  /** Driving since the last rest, ms (T1: 4 h). */
  continuousMs?: number;
  /** Driving inside the night window since the last rest, ms (T2: 2 h for passenger drivers). */
  nightContinuousMs?: number;
  /** Driving in the last 24 h of device time, ms (T3: 8 h). */
  dailyMs?: number;
  level: AlertLevel;
}

/**
 * `continuous_driving` (疲劳驾驶, platform side): driving time over device time, per vehicle class — more than 4 h
 * without a rest of at least 20 min (实施条例 Art. 62(7), domain.md T1), passenger night driving over 2 h (T2),
 * more than 8 h in any 24 h (T3). Driving = `speed_kmh` above `movingKmh` with `acc_on` not false, between two such
 * readings less than `maxGapMs` apart; every other stretch of device time (stops, long silences) is a stop, and a stop
 * of `restMs` is a rest. Value: driving minutes of the limit hit (of the current stint while clear).
 */
export interface ContinuousDrivingRule extends RuleBase {
  type: 'continuous_driving';
  /** Moving = `speed_kmh` above this, km/h. Default 5. */
  movingKmh: number;
  /** A stop this long is a rest and ends the stint, ms. Default 1 200 000 (20 min, T1/T2; param 0x0059). */
  restMs: number;
  /** Two moving readings further apart than this do not count as driving in between, ms. Default 300 000 (5 min). */
  maxGapMs: number;
  /** Beijing local time window of `nightContinuousMs`. Default 22:00–06:00 (❓ domain.md §8 item 7). */
  night: DailyWindow;
  /** Limits by vehicle class; `default` for any other class. A device whose class matches none is not checked. */
  classes: Record<string, DrivingLimits>;
}

export const DEFAULT_CONTINUOUS_DRIVING = {
  movingKmh: 5,
  restMs: 1_200_000,
  maxGapMs: 300_000,
  night: { from: '22:00', to: '06:00' },
  // YAML form (parsed like a written one). Level 2 for passenger / hazmat fatigue (domain.md §7.2); 3 for other
  // vehicles is our choice (💡). hazmat `daily` follows param 0x0058 = 8 h for 两客一危 (💡 §5.6; T3 is passenger).
  classes: {
    coach: { continuous: '4h', night_continuous: '2h', daily: '8h', level: 2 },
    bus: { continuous: '4h', night_continuous: '2h', daily: '8h', level: 2 },
    hazmat: { continuous: '4h', daily: '8h', level: 2 },
    default: { continuous: '4h', level: 3 },
  } as Record<string, { continuous?: string; night_continuous?: string; daily?: string; level?: AlertLevel }>,
} as const;

/** Cap on the remembered driving intervals of the 24 h rule: beyond it the two closest are merged. */
export const MAX_DRIVING_SPANS = 48;

const LIMITS_SCHEMA = z
  .strictObject({
    continuous: DURATION.optional(),
    night_continuous: DURATION.optional(),
    daily: DURATION.optional(),
    level: LEVEL.default(2),
  })
  .refine((l) => l.continuous !== undefined || l.night_continuous !== undefined || l.daily !== undefined, { message: 'give at least one of continuous, night_continuous, daily' })
  .refine((l) => l.daily === undefined || l.daily < DAY_MS, { path: ['daily'], message: 'daily must be under 24h' });

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('continuous_driving'),
    moving_kmh: z.number().min(0).max(300).default(DEFAULT_CONTINUOUS_DRIVING.movingKmh),
    rest: DURATION.default(DEFAULT_CONTINUOUS_DRIVING.restMs),
    max_gap: DURATION.default(DEFAULT_CONTINUOUS_DRIVING.maxGapMs),
    night: z.strictObject(DAILY_WINDOW_SHAPE).prefault(DEFAULT_CONTINUOUS_DRIVING.night),
    classes: z.record(VEHICLE_CLASS, LIMITS_SCHEMA).prefault(DEFAULT_CONTINUOUS_DRIVING.classes),
  })
  .superRefine((r, ctx) => {
    checkWindow(r.night, ctx, ['night']);
    // A silence longer than a rest must never count as driving.
    if (r.max_gap > r.rest) ctx.addIssue({ code: 'custom', path: ['max_gap'], message: 'max_gap must not exceed rest' });
  })
  .transform((r): Omit<ContinuousDrivingRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'continuous_driving',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    movingKmh: r.moving_kmh,
    restMs: r.rest,
    maxGapMs: r.max_gap,
    night: { fromMs: r.night.from, toMs: r.night.to },
    classes: Object.fromEntries(
      Object.entries(r.classes).map(([cls, l]) => [cls, { continuousMs: l.continuous, nightContinuousMs: l.night_continuous, dailyMs: l.daily, level: l.level }]),
    ),
  }));

/** Compact and bounded (the engine persists it as JSON): a few numbers and at most MAX_DRIVING_SPANS intervals. */
export interface ContinuousDrivingState {
  /** Device time of the previous reading looked at. */
  lastTs?: number;
  /** Whether that reading was driving. */
  lastMoving: boolean;
  /** Driving in the current stint (since the last rest), ms. */
  stintMs: number;
  /** Of which inside the night window, ms. */
  nightMs: number;
  /** Start of the current stop, while stopped. */
  stopSince?: number;
  /** Driving intervals of the last 24 h, oldest first (only for classes with a `daily` limit). */
  spans: DrivingSpan[];
  /** Level of an alert resumed without state: held until the first rest, since the counters were lost. */
  resumeLevel?: AlertLevel;
}

/** A driving interval of the 24 h rule: [start, end, driven ms] (a merged interval keeps what was driven in it). */
export type DrivingSpan = [start: number, end: number, drivenMs: number];

const gapAfter = (spans: DrivingSpan[], i: number): number => (spans[i + 1] as DrivingSpan)[0] - (spans[i] as DrivingSpan)[1];

/** Appends the driving interval [a, b): extends the last one when contiguous, merges the closest two beyond the cap. */
function addSpan(spans: DrivingSpan[], a: number, b: number): void {
  const last = spans[spans.length - 1];
  if (last && last[1] === a) {
    last[1] = b;
    last[2] += b - a;
    return;
  }
  spans.push([a, b, b - a]);
  if (spans.length <= MAX_DRIVING_SPANS) return;
  let at = 0;
  for (let i = 1; i < spans.length - 1; i++) if (gapAfter(spans, i) < gapAfter(spans, at)) at = i;
  const x = spans[at] as DrivingSpan;
  const y = spans[at + 1] as DrivingSpan;
  spans.splice(at, 2, [x[0], y[1], x[2] + y[2]]);
}

/** Driving within (ts − 24 h, ts], ms; drops intervals that ended before it. A straddling interval counts pro rata. */
function drivenInLastDay(spans: DrivingSpan[], ts: number): number {
  const from = ts - DAY_MS;
  while (spans.length > 0 && (spans[0] as DrivingSpan)[1] <= from) spans.shift();
  let sum = 0;
  for (const [s, e, d] of spans) sum += s >= from ? d : (d * (e - from)) / (e - s);
  return sum;
}

/** Accounts device time from the previous reading to `ts` as driving or stop. */
function advance(rule: ContinuousDrivingRule, limits: DrivingLimits, state: ContinuousDrivingState, last: number, ts: number, moving: boolean): void {
  if (state.lastMoving && moving && ts - last < rule.maxGapMs) {
    state.stopSince = undefined;
    state.stintMs += ts - last;
    if (limits.nightContinuousMs !== undefined) state.nightMs += overlapDailyWindowMs(last, ts, rule.night);
    if (limits.dailyMs !== undefined) addSpan(state.spans, last, ts);
    return;
  }
  state.stopSince ??= last;
  // T1: "停车休息时间少于20分钟" is the violation, so a stop of exactly `rest` is a rest.
  if (ts - state.stopSince >= rule.restMs) {
    state.stintMs = 0;
    state.nightMs = 0;
    state.resumeLevel = undefined;
  }
}

const minutes = (ms: number): number => Math.round(ms / 60_000);

export const continuousDrivingEvaluator: RuleEvaluator<ContinuousDrivingRule, ContinuousDrivingState> = {
  type: 'continuous_driving',
  schema,
  initialState: (_rule, resume) => ({ lastMoving: false, stintMs: 0, nightMs: 0, spans: [], resumeLevel: resume?.level }),
  evaluate(rule, state, reading: Reading, ctx): EvalResult | undefined {
    const speed = reading.fields.speed_kmh;
    // domain.md §5.5 bit1: without a fix the speed is stale; the silence is bridged (or not) by max_gap.
    if (typeof speed !== 'number' || reading.fields.located === false) return undefined;
    const limits = byClass(rule.classes, vehicleClassOf(ctx.device));
    if (!limits) return undefined;
    const ts = reading.ts;
    // The live path sees device time forward only (back-dated readings go to the engine's history state).
    if (state.lastTs !== undefined && ts < state.lastTs) return undefined;
    const moving = speed > rule.movingKmh && reading.fields.acc_on !== false;
    if (state.lastTs !== undefined) advance(rule, limits, state, state.lastTs, ts, moving);
    state.lastTs = ts;
    state.lastMoving = moving;

    const dailyMs = limits.dailyMs !== undefined ? drivenInLastDay(state.spans, ts) : 0;
    if (limits.continuousMs !== undefined && state.stintMs > limits.continuousMs) {
      return { status: 'firing', level: limits.level, value: minutes(state.stintMs), title: `连续驾驶超过${durationZh(limits.continuousMs)}` };
    }
    if (limits.nightContinuousMs !== undefined && state.nightMs > limits.nightContinuousMs) {
      return { status: 'firing', level: limits.level, value: minutes(state.nightMs), title: `夜间连续驾驶超过${durationZh(limits.nightContinuousMs)}` };
    }
    if (limits.dailyMs !== undefined && dailyMs > limits.dailyMs) {
      return { status: 'firing', level: limits.level, value: minutes(dailyMs), title: `24小时累计驾驶超过${durationZh(limits.dailyMs)}` };
    }
    if (state.resumeLevel !== undefined) return { status: 'firing', level: state.resumeLevel, value: minutes(state.stintMs) };
    return { status: 'clear', value: minutes(state.stintMs) };
  },
};
