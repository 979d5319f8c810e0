import { z } from 'zod';

/**
 * A simulated signal: a base value with Gaussian-ish noise, an optional daily swing and an optional periodic ramp
 * (rise → hold → fall) that models an incident such as a gas leak.
 */
export const SIGNAL_SCHEMA = z.strictObject({
  base: z.number(),
  /** Standard deviation of the noise (same unit as base). Default 0. */
  noise: z.number().min(0).default(0),
  /** Amplitude of a 24 h sine swing peaking at 14:00 Beijing time. Default 0. */
  daily: z.number().default(0),
  ramp: z
    .strictObject({
      /** Peak value of the ramp. */
      to: z.number(),
      /** Seconds from simulation start (and from each period start) to the start of the rise. */
      start_s: z.number().min(0).default(0),
      rise_s: z.number().min(0).default(30),
      hold_s: z.number().min(0).default(30),
      fall_s: z.number().min(0).default(30),
      /** Repeat every this many seconds; 0 = once. */
      period_s: z.number().min(0).default(0),
    })
    .optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  /** Decimal places kept; integer signals use 0. Default 2. */
  decimals: z.number().int().min(0).max(6).default(2),
});
export type Signal = z.output<typeof SIGNAL_SCHEMA>;

/** Deterministic PRNG (mulberry32): the same seed gives the same fleet. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
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

/** The signal's value `tS` seconds after the simulation started, at wall time `nowMs`. */
export function signalValue(s: Signal, tS: number, nowMs: number, rand: () => number): number {
  let v = s.base;
  if (s.daily !== 0) {
    const hourBeijing = ((nowMs / 3_600_000 + 8) % 24 + 24) % 24;
    v += s.daily * Math.cos(((hourBeijing - 14) / 24) * 2 * Math.PI);
  }
  if (s.ramp) v += (s.ramp.to - s.base) * rampAt(s.ramp, tS);
  if (s.noise > 0) v += s.noise * (rand() + rand() + rand() - 1.5) * 2; // ≈ N(0, noise²)
  if (s.min !== undefined) v = Math.max(s.min, v);
  if (s.max !== undefined) v = Math.min(s.max, v);
  const f = 10 ** s.decimals;
  return Math.round(v * f) / f;
}
