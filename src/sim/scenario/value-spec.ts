import { z } from 'zod';
import { parseDurationMs } from '../../lib/duration.js';

// How a scenario says what a field of a reading is at a moment of the scenario: a constant, a piecewise-linear
// curve with bounded noise (a ramp), or a step function (enums, flags). Arrays and objects build the kinds' compound
// fields (`temp_c: [..]`, `current_a: {a, b, c}`).

/** A constant field value. */
export type Scalar = number | boolean | string;

/**
 * A numeric curve through `points` (scenario offset ms → value), linear between them and flat beyond the first and
 * last, plus uniform noise in [−noise, +noise] drawn from the scenario's seed, then clamped and rounded.
 */
export interface PointsSpec {
  points: [offsetMs: number, value: number][];
  /** Half-width of the uniform noise, field units. Default 0. Bounded on purpose: a threshold further than `noise` from the curve is crossed where the curve crosses it, whatever the seed. */
  noise: number;
  /** Decimal places kept (0 for integer fields). Default 2. */
  decimals: number;
  min?: number;
  max?: number;
}

/** A step function: the value of the last step at or before the offset (the first step's value before it). */
export interface StepsSpec {
  steps: [offsetMs: number, value: Scalar][];
}

export type ValueSpec = Scalar | PointsSpec | StepsSpec | ValueSpec[] | { [key: string]: ValueSpec };

const COMPOUND_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Parses a scenario offset: a duration as rules take it (`90s`, `5m`, `1.5h`, ms as a number; src/lib/duration.ts)
 * or, unlike rule durations, a compound one read left to right (`8h20m`, `4h7m30s`), since a timeline hours long is
 * easier to follow in hours and minutes. Undefined when malformed.
 */
export function parseOffsetMs(value: string | number): number | undefined {
  if (typeof value === 'number') return parseDurationMs(value);
  const text = value.trim();
  const parts = [...text.matchAll(COMPOUND_PART)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  let ms = 0;
  for (const p of parts) ms += parseDurationMs(p[0]) as number;
  return ms;
}

/** A scenario offset (see {@link parseOffsetMs}), ms after the scenario's start. */
export const OFFSET = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseOffsetMs(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be an offset such as 30s, 5m, 2h, 4h7m30s (or ms as a number), ≥ 0' });
    return z.NEVER;
  }
  return ms;
});

const SCALAR = z.union([z.number(), z.boolean(), z.string()]);

function increasing(list: [number, unknown][], ctx: z.RefinementCtx, key: string): void {
  for (let i = 1; i < list.length; i++) {
    if ((list[i] as [number, unknown])[0] <= (list[i - 1] as [number, unknown])[0]) {
      ctx.addIssue({ code: 'custom', path: [key, i, 0], message: 'offsets must increase strictly' });
    }
  }
}

const POINTS_SCHEMA = z
  .strictObject({
    points: z.array(z.tuple([OFFSET, z.number()])).min(1),
    noise: z.number().min(0).default(0),
    decimals: z.int().min(0).max(6).default(2),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .superRefine((s, ctx) => {
    increasing(s.points, ctx, 'points');
    if (s.min !== undefined && s.max !== undefined && s.min > s.max) ctx.addIssue({ code: 'custom', path: ['max'], message: 'max must be ≥ min' });
  });

const STEPS_SCHEMA = z.strictObject({ steps: z.array(z.tuple([OFFSET, SCALAR])).min(1) }).superRefine((s, ctx) => increasing(s.steps, ctx, 'steps'));

/**
 * Schema of one field's value spec (recursive for arrays and objects). Dispatches on the shape (an object with
 * `points` is a curve, with `steps` a step function, any other object a compound field) rather than a union, so a
 * mistake is reported at its own path, not as "invalid input".
 */
export const VALUE_SPEC: z.ZodType<ValueSpec, unknown> = z.lazy(() =>
  z.unknown().transform((value, ctx): ValueSpec => {
    const schema: z.ZodType<ValueSpec, unknown> = Array.isArray(value)
      ? z.array(VALUE_SPEC).min(1)
      : typeof value !== 'object' || value === null
        ? SCALAR
        : 'points' in value
          ? POINTS_SCHEMA
          : 'steps' in value
            ? STEPS_SCHEMA
            : z.record(z.string(), VALUE_SPEC);
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as (string | number)[], message: issue.message });
    return z.NEVER;
  }),
);

/** A reading's `data` as a map of field → value spec. */
export const DATA_SPEC = z.record(z.string(), VALUE_SPEC).refine((d) => Object.keys(d).length > 0, { message: 'give at least one field' });

function isPoints(spec: ValueSpec): spec is PointsSpec {
  return typeof spec === 'object' && !Array.isArray(spec) && Array.isArray((spec as PointsSpec).points);
}

function isSteps(spec: ValueSpec): spec is StepsSpec {
  return typeof spec === 'object' && !Array.isArray(spec) && Array.isArray((spec as StepsSpec).steps);
}

/** The curve's value at `t` without noise. */
export function curveAt(points: PointsSpec['points'], t: number): number {
  const first = points[0] as [number, number];
  if (t <= first[0]) return first[1];
  for (let i = 1; i < points.length; i++) {
    const [t1, v1] = points[i] as [number, number];
    if (t <= t1) {
      const [t0, v0] = points[i - 1] as [number, number];
      return v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    }
  }
  return (points[points.length - 1] as [number, number])[1];
}

/** A source of uniform numbers in [0, 1) per field path (`temp_c[2]`), so each field has its own noise stream. */
export type NoiseSource = (path: string) => number;

/**
 * The value of `spec` at scenario offset `t` (ms): a JSON value for the payload's `data`. `noise(path)` is asked
 * once per noisy number, in reading order.
 */
export function valueAt(spec: ValueSpec, t: number, noise: NoiseSource, path: string): unknown {
  if (typeof spec !== 'object') return spec;
  if (Array.isArray(spec)) return spec.map((s, i) => valueAt(s, t, noise, `${path}[${i}]`));
  if (isPoints(spec)) {
    let v = curveAt(spec.points, t);
    if (spec.noise > 0) v += spec.noise * (2 * noise(path) - 1);
    if (spec.min !== undefined) v = Math.max(spec.min, v);
    if (spec.max !== undefined) v = Math.min(spec.max, v);
    const f = 10 ** spec.decimals;
    // `+ 0` turns −0 into 0 (JSON would print it as 0 anyway, but equality checks in tests would not).
    return Math.round(v * f) / f + 0;
  }
  if (isSteps(spec)) {
    let out = (spec.steps[0] as [number, Scalar])[1];
    for (const [at, v] of spec.steps) if (at <= t) out = v;
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec)) out[k] = valueAt(s, t, noise, `${path}.${k}`);
  return out;
}

export { fnv1a, mulberry32 } from '../../lib/prng.js';
