import type { z } from 'zod';
import { getKind } from '../kinds/index.js';
import { validateData } from '../kinds/validate.js';
import type { KindName } from '../kinds/kind.js';
import { isShiftSpec, isSignalSpec, type FieldSpec, type SignalSpec } from './field-spec.js';

// Checks a model's field descriptions against its kind (src/kinds/*.ts): every field is one the kind accepts, signals
// carry the kind's unit, and every value the description can produce — not just a typical one — passes the kind's
// schema. Problems come back as zod issues on the model's own paths, so the YAML loader reports them as file:line.

/** Fields a vehicle's route produces; a vehicle model does not describe them. */
export const ROUTE_FIELDS = ['lat', 'lon', 'heading_deg', 'mileage_km'] as const;

type Issue = { path: (string | number)[]; message: string };

/** The lowest and highest value a signal description can produce (noise is bounded at ±3σ by construction). */
function signalExtremes(s: SignalSpec): [number, number] {
  let lo = s.range ? s.range[0] : (s.base as number);
  let hi = s.range ? s.range[1] : (s.base as number);
  if (s.ramp) {
    lo = Math.min(lo, s.ramp.to);
    hi = Math.max(hi, s.ramp.to);
  }
  const d = s.daily;
  if (typeof d === 'number') {
    lo -= Math.abs(d);
    hi += Math.abs(d);
  } else {
    const [aLo, aHi] = typeof d.amplitude === 'number' ? [d.amplitude, d.amplitude] : d.amplitude;
    if (d.shape === 'sine') {
      const a = Math.max(Math.abs(aLo), Math.abs(aHi));
      lo -= a;
      hi += a;
    } else {
      lo += Math.min(0, aLo);
      hi += Math.max(0, aHi);
    }
  }
  lo -= 3 * s.noise;
  hi += 3 * s.noise;
  if (s.min !== undefined) lo = Math.max(s.min, lo);
  if (s.max !== undefined) hi = Math.min(s.max, hi);
  const f = 10 ** s.decimals;
  return [Math.round(Math.min(lo, hi) * f) / f + 0, Math.round(Math.max(lo, hi) * f) / f + 0];
}

/** The payload where every field takes its lowest (`end` 0) or highest (`end` 1) possible value. */
function extremeValue(spec: FieldSpec, end: 0 | 1): unknown {
  if (typeof spec !== 'object') return spec;
  if (Array.isArray(spec)) return spec.map((s) => extremeValue(s, end));
  if (isSignalSpec(spec)) return signalExtremes(spec)[end];
  if (isShiftSpec(spec)) return end === 0 ? spec.off : spec.on;
  return Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, extremeValue(v as FieldSpec, end)]));
}

/** `temp_c[2]` → ['temp_c', 2]; `current_a.b` → ['current_a', 'b'] (the paths of src/kinds/validate.ts). */
function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  return out;
}

/** Signal leaves with their path below the field name, for the unit check. */
function signalLeaves(spec: FieldSpec, path: (string | number)[] = []): [(string | number)[], SignalSpec][] {
  if (typeof spec !== 'object') return [];
  if (Array.isArray(spec)) return spec.flatMap((s, i) => signalLeaves(s, [...path, i]));
  if (isSignalSpec(spec)) return [[path, spec]];
  if (isShiftSpec(spec)) return [];
  return Object.entries(spec).flatMap(([k, v]) => signalLeaves(v as FieldSpec, [...path, k]));
}

/** The unit the kind stores a wire field in: `temp_c` → `temp_c_1`'s, `current_a` → `current_a_a`'s. */
function kindUnit(kind: KindName, field: string): string | undefined {
  const f = getKind(kind).fields;
  return (f[field] ?? f[`${field}_1`] ?? f[`${field}_a`])?.unit;
}

/**
 * Problems of a model's `fields` for its kind, on paths relative to the model document (`fields.rsrp_dbm.unit`).
 * `requireUnits`: model files must state the unit of every numeric signal; fleet `sim:` overrides need not.
 */
export function checkFieldsForKind(kind: KindName, fields: Record<string, FieldSpec>, opts: { requireUnits: boolean; base?: (string | number)[] }): Issue[] {
  const base = opts.base ?? ['fields'];
  const def = getKind(kind);
  const shape = (def.dataSchema as unknown as z.ZodObject).shape as Record<string, unknown>;
  const issues: Issue[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    if (!(name in shape)) {
      issues.push({ path: [...base, name], message: `kind ${kind} has no field ${name} (src/kinds/${kind.replace('_', '-')}.ts)` });
      continue;
    }
    if (kind === 'vehicle' && (ROUTE_FIELDS as readonly string[]).includes(name)) {
      issues.push({ path: [...base, name], message: `${name} comes from the vehicle's route; remove it here` });
      continue;
    }
    const want = kindUnit(kind, name) ?? '';
    for (const [leafPath, leaf] of signalLeaves(spec)) {
      if (leaf.unit === undefined ? opts.requireUnits && want !== '' : leaf.unit !== want) {
        issues.push({ path: [...base, name, ...leafPath, 'unit'], message: `kind ${kind} stores ${name} in ${want === '' ? 'no unit (a count or code)' : want}; write unit: '${want}'` });
      }
    }
  }
  if (issues.length > 0) return issues;
  for (const end of [0, 1] as const) {
    const data = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, extremeValue(v, end)]));
    const r = validateData(def, data, '');
    if (r.ok) continue;
    for (const e of r.errors) {
      issues.push({
        path: [...base, ...splitPath(e.path)],
        message: `the ${end === 0 ? 'lowest' : 'highest'} value this can produce (range or base, ±3×noise, daily, ramp, then min/max) is invalid — ${e.message}`,
      });
    }
  }
  return issues;
}
