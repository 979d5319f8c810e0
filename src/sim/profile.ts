import { z } from 'zod';
import type { Device } from '../registry/device-registry.js';
import { FIELDS_SCHEMA, type FieldSpec } from './field-spec.js';
import { checkFieldsForKind } from './model-check.js';
import { DRIVE_HOURS, DWELL_S, ODOMETER_KM, type DeviceModel, type Drive, type ModelCatalog } from './models.js';
import type { LatLon } from './route.js';

// A fleet device's simulation profile: its model's defaults (devices/models) overlaid with its own `sim:` block.

const LAT_LON = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);

/**
 * The `sim:` block of a fleet device. With a `model:` from devices/models every key is optional and overrides the
 * model's (a field given here replaces the model's field of that name); without one, `fields` is required.
 */
export const SIM_BLOCK_SCHEMA = z.strictObject({
  /** Seconds between readings. Default: the model's, else 5. */
  interval_s: z.number().min(0.05).max(86_400).optional(),
  /** Spread of each interval as a fraction (0.02 = ±2 %). Default: the model's, else 0.02. */
  jitter: z.number().min(0).max(0.5).optional(),
  /** Wire field → constant or signal (src/sim/field-spec.ts); merged over the model's fields. */
  fields: FIELDS_SCHEMA.optional(),
  /** Vehicles: a polyline of [lat, lon] driven at `speed_kmh` — looped when closed, else out and back. */
  route: z.array(LAT_LON).min(2).optional(),
  /** Vehicles: seconds stopped at each end of an open route. Default: the model's `drive.dwell_s`, else 0. */
  dwell_s: DWELL_S.optional(),
  /** Vehicles: odometer at the start, km (or a range). Default: the model's `drive.odometer_km`, else 0. */
  odometer_km: ODOMETER_KM.optional(),
  /** Vehicles: Beijing hours it drives. Default: the model's `drive.hours`, else always. */
  drive_hours: DRIVE_HOURS.optional(),
});
export type SimBlock = z.output<typeof SIM_BLOCK_SCHEMA>;

/** Interval of a device with neither a model nor `sim.interval_s`, s (what the first simulator used). */
export const DEFAULT_SIM_INTERVAL_S = 5;
const DEFAULT_JITTER = 0.02;

/** Everything the simulator needs to know about one device, before any random draw. */
export interface SimProfile {
  device: Device;
  /** The model it inherits from, if any. */
  model?: DeviceModel;
  intervalS: number;
  jitter: number;
  fields: Record<string, FieldSpec>;
  route?: LatLon[];
  drive: Drive;
}

/** A problem of one device's profile, on a path relative to the device entry (`sim.fields.speed_kmh`). */
export interface ProfileIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The profile of a fleet device, or why it has none. `undefined` profile with no issues: the device is registered
 * but not simulated (no `sim:` block and no known model).
 */
export function resolveProfile(device: Device, rawSim: unknown, models: ModelCatalog): { profile?: SimProfile; issues: ProfileIssue[] } {
  const model = device.model === undefined ? undefined : models.get(device.model);
  if (rawSim === undefined && model === undefined) return { issues: [] };
  const parsed = SIM_BLOCK_SCHEMA.safeParse(rawSim ?? {});
  if (!parsed.success) return { issues: parsed.error.issues.map((i) => ({ path: ['sim', ...(i.path as (string | number)[])], message: i.message })) };
  const sim = parsed.data;
  const issues: ProfileIssue[] = [];
  if (model && model.kind !== device.kind) issues.push({ path: ['model'], message: `model ${model.model} is a ${model.kind} model, the device is ${device.kind}` });
  if (!model && !sim.fields) {
    const named = device.model === undefined ? '' : ` (no model ${device.model} in the models directory)`;
    issues.push({ path: ['sim'], message: `give sim.fields, or a model: from the models directory${named}` });
  }
  if (sim.fields) for (const i of checkFieldsForKind(device.kind, sim.fields, { requireUnits: false, base: ['sim', 'fields'] })) issues.push(i);
  if (device.kind === 'vehicle' && !sim.route) issues.push({ path: ['sim', 'route'], message: 'a simulated vehicle needs a route: [[lat, lon], …]' });
  if (device.kind !== 'vehicle') {
    for (const key of ['route', 'dwell_s', 'odometer_km', 'drive_hours'] as const) if (sim[key] !== undefined) issues.push({ path: ['sim', key], message: 'only vehicles drive a route' });
  }
  if (issues.length > 0) return { issues };
  return {
    profile: {
      device,
      model,
      intervalS: sim.interval_s ?? model?.interval_s ?? DEFAULT_SIM_INTERVAL_S,
      jitter: sim.jitter ?? model?.jitter ?? DEFAULT_JITTER,
      fields: { ...model?.fields, ...sim.fields },
      route: sim.route,
      drive: {
        dwell_s: sim.dwell_s ?? model?.drive?.dwell_s ?? 0,
        odometer_km: sim.odometer_km ?? model?.drive?.odometer_km ?? 0,
        hours: sim.drive_hours ?? model?.drive?.hours,
      },
    },
    issues: [],
  };
}
