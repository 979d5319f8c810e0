import { z } from 'zod';
import { fnv1a, mulberry32 } from '../lib/prng.js';

/** Beijing time has no DST: UTC+8 all year (domain.md §0). */
const BEIJING_OFFSET_H = 8;

/**
 * A daily pattern on top of the base value. A plain number is the amplitude of a 24 h sine peaking at 14:00 Beijing
 * time (the original form); the object form chooses the shape:
 * - `sine`: smooth swing peaking at `peak_h` (outdoor temperatures, mains voltage sag at the evening peak);
 * - `shift`: 0 outside the working hours `hours: [start, end]`, `amplitude` inside, with `ramp_min` ramps at the edges
 *   (dust-collector fans and pressure, factory and kitchen electrical loads).
 */
export const DAILY_OBJECT_SCHEMA = z.strictObject({
  /** Swing (sine) or in-shift offset (shift), same unit as the signal. */
  amplitude: z.number(),
  shape: z.enum(['sine', 'shift']).default('sine'),
  /** sine: Beijing hour of the peak. Default 14. */
  peak_h: z.number().min(0).max(24).default(14),
  /** shift: Beijing start and end hour; an end before the start wraps past midnight (`[17, 2]`). Default 8–20. */
  hours: z.tuple([z.number().min(0).max(24), z.number().min(0).max(24)]).default([8, 20]),
  /** shift: minutes to ramp up after the start and down before the end. Default 30. */
  ramp_min: z.number().min(0).max(720).default(30),
});
/** A daily pattern: the amplitude of the 14:00 sine, or the object form ({@link DAILY_OBJECT_SCHEMA}). */
export const DAILY_SCHEMA = z.union([z.number(), DAILY_OBJECT_SCHEMA]);
export type Daily = z.output<typeof DAILY_SCHEMA>;

/** A periodic incident on top of a signal: rise to `to`, hold, fall back (the demo fleet's gas leak). */
export const RAMP_SCHEMA = z.strictObject({
  /** Peak value of the ramp. */
  to: z.number(),
  /** Seconds from simulation start (and from each period start) to the start of the rise. */
  start_s: z.number().min(0).default(0),
  rise_s: z.number().min(0).default(30),
  hold_s: z.number().min(0).default(30),
  fall_s: z.number().min(0).default(30),
  /** Repeat every this many seconds; 0 = once. */
  period_s: z.number().min(0).default(0),
});

/**
 * A simulated signal: a base value with Gaussian-ish noise, an optional daily pattern and an optional periodic ramp
 * (rise → hold → fall) that models an incident such as a gas leak.
 */
export const SIGNAL_SCHEMA = z.strictObject({
  base: z.number(),
  /** Standard deviation of the noise (same unit as base). Default 0. */
  noise: z.number().min(0).default(0),
  /**
   * Correlation of successive noise samples, 0–0.99 (AR(1)): 0 is white noise, 0.9 a slow wander such as a
   * temperature. The spread stays `noise` either way. Default 0.
   */
  walk: z.number().min(0).max(0.99).default(0),
  /** Daily pattern (see {@link DAILY_SCHEMA}). Default none. */
  daily: DAILY_SCHEMA.default(0),
  ramp: RAMP_SCHEMA.optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  /** Decimal places kept; integer signals use 0. Default 2. */
  decimals: z.number().int().min(0).max(6).default(2),
});
export type Signal = z.output<typeof SIGNAL_SCHEMA>;

/** Per-device, per-signal memory (the last noise sample, for `walk`). */
export interface SignalState {
  noise?: number;
}

/** Deterministic PRNG (mulberry32): the same seed gives the same fleet. */
export const prng = mulberry32;

/** FNV-1a of a string: turns `seed/tenant/device` into a PRNG seed. */
export const hashSeed = fnv1a;

/** The hour of the day in Beijing, 0 ≤ h < 24. */
export function beijingHour(nowMs: number): number {
  return (((nowMs / 3_600_000 + BEIJING_OFFSET_H) % 24) + 24) % 24;
}

/** 0 outside the shift, 1 inside, linear over `rampMin` at both edges. `hours` may wrap past midnight. */
export function shiftLevel(hour: number, hours: readonly [number, number], rampMin: number): number {
  const [start, end] = hours;
  const length = (end - start + 24) % 24 || 24;
  const t = (hour - start + 24) % 24;
  if (t >= length) return 0;
  const rampH = rampMin / 60;
  if (rampH <= 0) return 1;
  return Math.min(1, t / rampH, (length - t) / rampH);
}

function dailyAt(d: Daily, nowMs: number): number {
  const hour = beijingHour(nowMs);
  if (typeof d === 'number') return d === 0 ? 0 : d * Math.cos(((hour - 14) / 24) * 2 * Math.PI);
  if (d.shape === 'shift') return d.amplitude * shiftLevel(hour, d.hours, d.ramp_min);
  return d.amplitude * Math.cos(((hour - d.peak_h) / 24) * 2 * Math.PI);
}

function rampAt(r: NonNullable<Signal['ramp']>, tS: number): number {
  let t = tS - r.start_s;
  if (r.period_s > 0 && tS >= r.start_s) t = (tS - r.start_s) % r.period_s;
  if (t < 0) return 0;
  if (t < r.rise_s) return r.rise_s === 0 ? 1 : t / r.rise_s;
  t -= r.rise_s;
  if (t < r.hold_s) return 1;
  t -= r.hold_s;
  if (t < r.fall_s) return 1 - t / r.fall_s;
  return 0;
}

/** ≈ N(0, 1) from three uniforms (Irwin–Hall, rescaled): cheap and bounded (±3). */
function gaussish(rand: () => number): number {
  return (rand() + rand() + rand() - 1.5) * 2;
}

/**
 * The signal's value `tS` seconds after the simulation started, at (simulated) wall time `nowMs`. Draws from `rand`
 * only when the signal has noise, so adding a noiseless field does not change the other fields' values.
 */
export function signalValue(s: Signal, tS: number, nowMs: number, rand: () => number, state?: SignalState): number {
  let v = s.base + dailyAt(s.daily, nowMs);
  if (s.ramp) v += (s.ramp.to - s.base) * rampAt(s.ramp, tS);
  if (s.noise > 0) {
    let n = gaussish(rand);
    if (state && s.walk > 0) {
      // AR(1) with unit variance: x' = φ·x + √(1−φ²)·ε.
      n = state.noise === undefined ? n : s.walk * state.noise + Math.sqrt(1 - s.walk * s.walk) * n;
      state.noise = n;
    }
    v += s.noise * n;
  }
  if (s.min !== undefined) v = Math.max(s.min, v);
  if (s.max !== undefined) v = Math.min(s.max, v);
  const f = 10 ** s.decimals;
  // `+ 0` turns -0 into 0.
  return Math.round(v * f) / f + 0;
}
