import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { loadYamlFile, type YamlProblem } from '../config/yaml-file.js';
import { KIND_NAMES } from '../kinds/kind.js';
import { FIELDS_SCHEMA } from './field-spec.js';
import { checkFieldsForKind } from './model-check.js';

/** Where `riskgate simulate` looks for models unless told otherwise (relative to the working directory). */
export const DEFAULT_MODELS_DIR = 'devices/models';

const MODEL_ID = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'must be 1–64 characters of A–Z a–z 0–9 _ . - (the file name without .yaml)' });

/** Seconds a vehicle stops at each end of an open (out-and-back) route: loading, passengers. */
export const DWELL_S = z.number().min(0).max(86_400);
/** Odometer at the start of the run, km; `[lo, hi]` draws one per vehicle. */
export const ODOMETER_KM = z.union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])]);

export const DRIVE_HOURS = z.tuple([z.number().min(0).max(24), z.number().min(0).max(24)]);

/** How a vehicle model drives its route (vehicles only). */
export const DRIVE_SCHEMA = z.strictObject({
  /** Default 0. */
  dwell_s: DWELL_S.default(0),
  /** Default 0. */
  odometer_km: ODOMETER_KM.default(0),
  /** Beijing hours the vehicle drives, `[start, end]`; parked with the ignition off outside them. Default always. */
  hours: DRIVE_HOURS.optional(),
});
export type Drive = z.output<typeof DRIVE_SCHEMA>;

/**
 * A device model (devices/models/<model>.yaml): what a product of one kind reports, how often and within which nominal
 * ranges. Fleet devices name it with `model:` and inherit all of it; their `sim:` block overrides single keys or fields.
 */
export const MODEL_SCHEMA = z
  .strictObject({
    /** Model id; must equal the file name. Fleet devices refer to it with `model:`. */
    model: MODEL_ID,
    kind: z.enum(KIND_NAMES),
    /** Product name as sold (Chinese), e.g. 点型可燃气体探测器. */
    name: z.string().min(1).max(128),
    /** The product standard it is certified to, e.g. GB 15322.1-2019. */
    standard: z.string().max(128).optional(),
    power: z.enum(['mains', 'battery', 'mains+battery', 'vehicle']),
    /** Uplink: 4G, Cat.1, NB-IoT, RS485 via DTU, … */
    network: z.string().min(1).max(64),
    description: z.string().max(2000).optional(),
    /** Seconds between periodic readings. */
    interval_s: z.number().min(0.05).max(86_400),
    /** Longest silence of a healthy device, s (its heartbeat): registered as the device's `heartbeat_s`. */
    heartbeat_s: z.int().min(1).max(7 * 86_400),
    /** Spread of each interval, as a fraction: 0.02 → ±2 %. Real devices drift; the fleet never falls into lock-step. Default 0.02. */
    jitter: z.number().min(0).max(0.5).default(0.02),
    drive: DRIVE_SCHEMA.optional(),
    /** Wire field → constant, signal, shift value, array or object (src/sim/field-spec.ts). */
    fields: FIELDS_SCHEMA,
  })
  .superRefine((m, ctx) => {
    if (m.heartbeat_s < m.interval_s) ctx.addIssue({ code: 'custom', path: ['heartbeat_s'], message: `must be ≥ interval_s (${m.interval_s})` });
    if (m.drive && m.kind !== 'vehicle') ctx.addIssue({ code: 'custom', path: ['drive'], message: 'only vehicle models drive' });
    if (Object.keys(m.fields).length === 0) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'a model reports at least one field' });
    for (const i of checkFieldsForKind(m.kind, m.fields, { requireUnits: true })) ctx.addIssue({ code: 'custom', ...i });
  });
export type DeviceModel = z.output<typeof MODEL_SCHEMA>;

export type ModelCatalog = ReadonlyMap<string, DeviceModel>;

export type ModelsResult = { ok: true; models: ModelCatalog } | { ok: false; problems: YamlProblem[] };

/** Loads one model file; its `model:` must equal the file name. */
export function loadModelFile(file: string, display = file): { ok: true; model: DeviceModel } | { ok: false; problems: YamlProblem[] } {
  const id = basename(file).replace(/\.ya?ml$/, '');
  const schema = MODEL_SCHEMA.superRefine((m, ctx) => {
    if (m.model !== id) ctx.addIssue({ code: 'custom', path: ['model'], message: `must equal the file name (${id})` });
  });
  const res = loadYamlFile(file, schema, display);
  return res.ok ? { ok: true, model: res.value } : res;
}

/** Loads every `*.yaml` of a directory; every problem of every file is reported, as file:line. */
export function loadModels(dir: string = DEFAULT_MODELS_DIR): ModelsResult {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    return { ok: false, problems: [{ file: dir, line: 1, col: 1, path: '', message: (err as Error).message }] };
  }
  const models = new Map<string, DeviceModel>();
  const problems: YamlProblem[] = [];
  for (const name of names) {
    const res = loadModelFile(join(dir, name));
    if (res.ok) models.set(res.model.model, res.model);
    else problems.push(...res.problems);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, models };
}
