import { z } from 'zod';
import { DAILY_OBJECT_SCHEMA, RAMP_SCHEMA, SIGNAL_SCHEMA, beijingHour, shiftLevel, signalValue, type Signal, type SignalState } from './signal.js';

// How a field of a simulated payload is described in model files (devices/models/*.yaml) and fleet `sim:` blocks, and
// how such a description becomes one device's values. The wire field names are the kinds' (src/kinds/*.ts).

type Constant = string | number | boolean;
/** `[lo, hi]`: one value drawn per device, uniformly (a device's nominal level within the model's range). */
const RANGE = z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo <= hi, { message: 'range must be [low, high] with low ≤ high' });

/**
 * A numeric signal as written in a file: `base` (every device alike) or `range` (each device draws its own base once),
 * plus the {@link SIGNAL_SCHEMA} options. `unit` documents the field (model files must give the kind's unit).
 */
export const SIGNAL_SPEC_SCHEMA = z
  .strictObject({
    ...SIGNAL_SCHEMA.shape,
    base: z.number().optional(),
    range: RANGE.optional(),
    // The object form may give the amplitude as a per-device range too.
    daily: z.union([z.number(), DAILY_OBJECT_SCHEMA.extend({ amplitude: z.union([z.number(), RANGE]) })]).default(0),
    ramp: RAMP_SCHEMA.optional(),
    unit: z.string().optional(),
  })
  .refine((s) => (s.base === undefined) !== (s.range === undefined), { message: 'give either base or range (not both)' })
  .refine((s) => s.min === undefined || s.max === undefined || s.min <= s.max, { message: 'min must be ≤ max' });
export type SignalSpec = z.output<typeof SIGNAL_SPEC_SCHEMA>;

/** A value that follows the working hours: `{ shift: [8, 20], on: true, off: false }` (fan running, pump state). */
export const SHIFT_SPEC_SCHEMA = z.strictObject({
  shift: z.tuple([z.number().min(0).max(24), z.number().min(0).max(24)]),
  on: z.union([z.string(), z.number(), z.boolean()]),
  off: z.union([z.string(), z.number(), z.boolean()]),
});
export type ShiftSpec = z.output<typeof SHIFT_SPEC_SCHEMA>;

/** A field as written: a constant, a signal, a shift value, or an array / object of those (`temp_c`, `current_a`). */
export type FieldSpec = Constant | SignalSpec | ShiftSpec | FieldSpec[] | { [key: string]: FieldSpec };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates one field description, dispatching on its shape so that errors name the exact key (a plain union would
 * only say "invalid input").
 */
function parseSpec(value: unknown, ctx: z.RefinementCtx, path: (string | number)[]): FieldSpec | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  const sub = (schema: z.ZodType, v: unknown): unknown => {
    const r = schema.safeParse(v);
    if (r.success) return r.data;
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: [...path, ...(i.path as (string | number)[])], message: i.message });
    return undefined;
  };
  if (Array.isArray(value)) {
    if (value.length === 0) ctx.addIssue({ code: 'custom', path, message: 'an array field needs at least one item' });
    const items = value.map((v, i) => parseSpec(v, ctx, [...path, i]));
    return items.every((i) => i !== undefined) ? (items as FieldSpec[]) : undefined;
  }
  if (!isPlainObject(value)) {
    ctx.addIssue({ code: 'custom', path, message: 'must be a constant, a signal { base | range, noise, … }, a shift value, an array or an object' });
    return undefined;
  }
  if ('base' in value || 'range' in value) return sub(SIGNAL_SPEC_SCHEMA, value) as SignalSpec | undefined;
  if ('shift' in value) return sub(SHIFT_SPEC_SCHEMA, value) as ShiftSpec | undefined;
  const out: Record<string, FieldSpec> = {};
  let ok = true;
  for (const [k, v] of Object.entries(value)) {
    const p = parseSpec(v, ctx, [...path, k]);
    if (p === undefined) ok = false;
    else out[k] = p;
  }
  return ok ? out : undefined;
}

/** Field name → description, validated with a path per problem. */
export const FIELDS_SCHEMA = z.record(z.string(), z.unknown()).transform((fields, ctx) => {
  const out: Record<string, FieldSpec> = {};
  for (const [k, v] of Object.entries(fields)) {
    const p = parseSpec(v, ctx, [k]);
    if (p !== undefined) out[k] = p;
  }
  return out;
});

export function isSignalSpec(spec: FieldSpec): spec is SignalSpec {
  return isPlainObject(spec) && ('base' in spec || 'range' in spec) && typeof (spec as SignalSpec).decimals === 'number';
}

export function isShiftSpec(spec: FieldSpec): spec is ShiftSpec {
  return isPlainObject(spec) && 'shift' in spec && 'on' in spec;
}

/** A field resolved for one device: ranges drawn, signal memory attached. */
export type FieldNode =
  | { t: 'const'; v: Constant }
  | { t: 'signal'; s: Signal; state: SignalState }
  | { t: 'shift'; hours: readonly [number, number]; on: Constant; off: Constant }
  | { t: 'array'; items: FieldNode[] }
  | { t: 'object'; entries: [string, FieldNode][] };

const draw = (r: readonly [number, number] | number, rand: () => number): number => (typeof r === 'number' ? r : r[0] + (r[1] - r[0]) * rand());

/** Resolves a description for one device, drawing its per-device values (`range`) from `rand` in field order. */
export function resolveSpec(spec: FieldSpec, rand: () => number): FieldNode {
  if (typeof spec !== 'object') return { t: 'const', v: spec };
  if (Array.isArray(spec)) return { t: 'array', items: spec.map((s) => resolveSpec(s, rand)) };
  if (isSignalSpec(spec)) {
    const { range, unit: _unit, daily, ...rest } = spec;
    const base = range ? draw(range, rand) : (spec.base as number);
    const resolvedDaily = typeof daily === 'number' ? daily : { ...daily, amplitude: draw(daily.amplitude, rand) };
    return { t: 'signal', s: { ...rest, base, daily: resolvedDaily }, state: {} };
  }
  if (isShiftSpec(spec)) return { t: 'shift', hours: spec.shift, on: spec.on, off: spec.off };
  return { t: 'object', entries: Object.entries(spec).map(([k, v]) => [k, resolveSpec(v as FieldSpec, rand)]) };
}

/** The value of a resolved field at `tS` seconds into the run, at simulated wall time `nowMs`. */
export function evaluate(node: FieldNode, tS: number, nowMs: number, rand: () => number): unknown {
  switch (node.t) {
    case 'const':
      return node.v;
    case 'signal':
      return signalValue(node.s, tS, nowMs, rand, node.state);
    case 'shift':
      return shiftLevel(beijingHour(nowMs), node.hours, 0) >= 0.5 ? node.on : node.off;
    case 'array':
      return node.items.map((n) => evaluate(n, tS, nowMs, rand));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, n] of node.entries) out[k] = evaluate(n, tS, nowMs, rand);
      return out;
    }
  }
}
