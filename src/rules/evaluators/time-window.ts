import { z } from 'zod';
import type { Reading } from '../../pipeline/reading.js';
import type { Device } from '../../registry/device-registry.js';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { holdFor, type HoldState } from './hold-for.js';
import { checkWindow, DAILY_WINDOW_SHAPE, inDailyWindow, VEHICLE_CLASS, vehicleClassOf, type DailyWindow } from './vehicle-common.js';

/** One banned window: vehicles of these classes in these regions must not move between `from` and `to`. */
export interface BannedWindow extends DailyWindow {
  /** Vehicle classes (registry `attrs.vehicle_class`) it applies to; undefined = every class. */
  vehicleClasses?: string[];
  /** GB/T 2260 code prefixes of `device.region` (`5101` = all of Chengdu); undefined = every region. */
  regions?: string[];
  level: AlertLevel;
  /** Alert title while this window decides it (defaults to the rule's title). */
  title?: string;
}

/**
 * `time_window`: a vehicle moving inside a window of Beijing local time (device time) in which its class may not
 * drive — long-distance coaches 02:00–05:00 (道路旅客运输企业安全管理规范 Art. 38(5), domain.md T8), hazmat night
 * restrictions chosen by each province within 00:00–06:00 (危险货物道路运输安全管理办法, T9).
 */
export interface TimeWindowRule extends RuleBase {
  type: 'time_window';
  /** Moving = `speed_kmh` above this, km/h. Default 5. */
  movingKmh: number;
  /** Moving inside a window must last this long (device time) before the rule fires, ms. Default 0. */
  forMs: number;
  /** In file order; when several apply the most severe level wins (the first listed among equals). */
  windows: BannedWindow[];
}

export const DEFAULT_TIME_WINDOW = { movingKmh: 5, forMs: 0 } as const;

const WINDOW_SCHEMA = z.strictObject({
  ...DAILY_WINDOW_SHAPE,
  vehicle_classes: z.array(VEHICLE_CLASS).min(1).optional(),
  regions: z.array(z.string().regex(/^\d{2,12}$/, { message: 'must be a GB/T 2260 code or prefix (digits)' })).min(1).optional(),
  level: LEVEL,
  title: z.string().min(1).max(128).optional(),
});

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('time_window'),
    moving_kmh: z.number().min(0).max(300).default(DEFAULT_TIME_WINDOW.movingKmh),
    for: DURATION.default(DEFAULT_TIME_WINDOW.forMs),
    windows: z.array(WINDOW_SCHEMA).min(1),
  })
  .superRefine((r, ctx) => r.windows.forEach((w, i) => checkWindow(w, ctx, ['windows', i])))
  .transform((r): Omit<TimeWindowRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'time_window',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    movingKmh: r.moving_kmh,
    forMs: r.for,
    windows: r.windows.map((w) => ({ fromMs: w.from, toMs: w.to, vehicleClasses: w.vehicle_classes, regions: w.regions, level: w.level, title: w.title })),
  }));

export type TimeWindowState = HoldState;

function appliesTo(w: BannedWindow, device: Device): boolean {
  if (w.vehicleClasses) {
    const cls = vehicleClassOf(device);
    if (cls === undefined || !w.vehicleClasses.includes(cls)) return false;
  }
  if (w.regions) {
    const region = device.region ?? '';
    if (!w.regions.some((p) => region.startsWith(p))) return false;
  }
  return true;
}

/** The most severe window this device is inside at `ts` (first listed among equals), or undefined. */
function windowAt(rule: TimeWindowRule, device: Device, ts: number): BannedWindow | undefined {
  let out: BannedWindow | undefined;
  for (const w of rule.windows) {
    if ((out === undefined || w.level < out.level) && appliesTo(w, device) && inDailyWindow(ts, w)) out = w;
  }
  return out;
}

export const timeWindowEvaluator: RuleEvaluator<TimeWindowRule, TimeWindowState> = {
  type: 'time_window',
  schema,
  // `pendingSince` present from the start (undefined): set on every clear, it would otherwise give each state an
  // out-of-object property store (issue 9: memory). JSON leaves undefined out, so the stored state is the same.
  initialState: (_rule, resume) => ({ firingLevel: resume?.level, pendingSince: undefined }),
  evaluate(rule, state, reading: Reading, ctx): EvalResult | undefined {
    const speed = reading.fields.speed_kmh;
    // domain.md §5.5 bit1: an unlocated fix carries a stale speed — it says nothing.
    if (typeof speed !== 'number' || reading.fields.located === false) return undefined;
    const w = speed > rule.movingKmh ? windowAt(rule, ctx.device, reading.ts) : undefined;
    return holdFor(state, w?.level, rule.forMs, reading.ts, speed, w?.title);
  },
};
