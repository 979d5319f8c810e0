import { z } from 'zod';
import type { Reading } from '../../pipeline/reading.js';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { holdFor, type HoldState } from './hold-for.js';
import { byClass, checkWindow, DAILY_WINDOW_SHAPE, inDailyWindow, VEHICLE_CLASS, vehicleClassOf, type DailyWindow } from './vehicle-common.js';

/**
 * `overspeed`: `speed_kmh` over the limit of the vehicle's class for at least `for` (JT/T 808 param 0x0056, domain.md
 * §5.6), with a night factor for passenger classes (T5) and hysteresis. The platform does not know the posted limit
 * of the road, so the limits are ceilings per class, not per road.
 */
export interface OverspeedRule extends RuleBase {
  type: 'overspeed';
  /** km/h by vehicle class; `default` for any other class (and for devices without one). */
  limits: Record<string, number>;
  /** Over the limit this long (device time) before the rule fires, ms. Default 10 000. */
  forMs: number;
  /** Beijing local time window in which `nightFactor` applies. Default 22:00–06:00. */
  night: DailyWindow;
  /** Multiplier of the limit at night for `nightClasses`. Default 0.8. */
  nightFactor: number;
  /** Classes the night factor applies to. Default coach, bus. */
  nightClasses: string[];
  /** Once firing, holds until the speed is below limit − this, km/h. Default 5. */
  clearMarginKmh: number;
  level: AlertLevel;
}

export const DEFAULT_OVERSPEED = {
  limits: {
    // 实施条例 Art. 78 (T6 ✅): expressway, motor vehicles other than small passenger cars ≤ 100 km/h.
    default: 100,
    coach: 100,
    // T7 ❓: GB 7258-2017 speed-limiter setting for hazmat trucks, not confirmed against the standard text.
    hazmat: 80,
    // ❓ no national figure found: a common operator setting for buses (公交/城际); confirm per region.
    bus: 80,
  } as Record<string, number>,
  forMs: 10_000, // ❓ domain.md §5.6 param 0x0056 (no national default found)
  // T5: the 80 % rule is ✅; the 22:00–06:00 window is ❓ (domain.md §8 item 7).
  night: { from: '22:00', to: '06:00' },
  nightFactor: 0.8,
  nightClasses: ['coach', 'bus'],
  clearMarginKmh: 5, // ❓ param 0x005B's 5 km/h margin, used here as hysteresis
  level: 3, // domain.md §7.2: overspeed alarm = 黄 yellow
} as const;

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('overspeed'),
    limits: z
      .record(VEHICLE_CLASS, z.number().positive().max(300))
      .default(DEFAULT_OVERSPEED.limits)
      .refine((l) => l.default !== undefined, { message: 'limits needs a default (for vehicles of any other class)' }),
    for: DURATION.default(DEFAULT_OVERSPEED.forMs),
    // prefault: the default is YAML input (HH:MM), parsed like a written one.
    night: z.strictObject(DAILY_WINDOW_SHAPE).prefault(DEFAULT_OVERSPEED.night),
    night_factor: z.number().gt(0).max(1).default(DEFAULT_OVERSPEED.nightFactor),
    night_classes: z.array(VEHICLE_CLASS).default([...DEFAULT_OVERSPEED.nightClasses]),
    clear_margin_kmh: z.number().min(0).max(50).default(DEFAULT_OVERSPEED.clearMarginKmh),
    level: LEVEL.default(DEFAULT_OVERSPEED.level),
  })
  .superRefine((r, ctx) => checkWindow(r.night, ctx, ['night']))
  .transform((r): Omit<OverspeedRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'overspeed',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    limits: r.limits,
    forMs: r.for,
    night: { fromMs: r.night.from, toMs: r.night.to },
    nightFactor: r.night_factor,
    nightClasses: r.night_classes,
    clearMarginKmh: r.clear_margin_kmh,
    level: r.level,
  }));

export type OverspeedState = HoldState;

/** The limit in force for this class at device time `ts`, km/h (to 0.1), and whether the night factor applied. */
export function limitFor(rule: OverspeedRule, cls: string | undefined, ts: number): { limitKmh: number; night: boolean } {
  const day = byClass(rule.limits, cls) as number; // the schema requires `default`
  const night = cls !== undefined && rule.nightClasses.includes(cls) && inDailyWindow(ts, rule.night);
  return { limitKmh: night ? Math.round(day * rule.nightFactor * 10) / 10 : day, night };
}

export const overspeedEvaluator: RuleEvaluator<OverspeedRule, OverspeedState> = {
  type: 'overspeed',
  schema,
  // `pendingSince` present from the start (undefined): set on every clear, it would otherwise give each state an
  // out-of-object property store (issue 9: memory). JSON leaves undefined out, so the stored state is the same.
  initialState: (_rule, resume) => ({ firingLevel: resume?.level, pendingSince: undefined }),
  evaluate(rule, state, reading: Reading, ctx): EvalResult | undefined {
    const speed = reading.fields.speed_kmh;
    // domain.md §5.5 bit1: without a fix the speed is stale — exclude from speed rules.
    if (typeof speed !== 'number' || reading.fields.located === false) return undefined;
    const { limitKmh, night } = limitFor(rule, vehicleClassOf(ctx.device), reading.ts);
    // Exceeding means strictly above: driving at the limit is lawful. Hysteresis only once firing (as `threshold`).
    const over = speed > limitKmh || (state.firingLevel !== undefined && speed >= limitKmh - rule.clearMarginKmh);
    const title = `${rule.title}(${night ? '夜间' : ''}限速${limitKmh}km/h)`;
    return holdFor(state, over ? rule.level : undefined, rule.forMs, reading.ts, speed, title);
  },
};
