import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { parseCompactYaml } from '../config/compact-yaml.js';
import { loadYamlFile, type YamlProblem } from '../config/yaml-file.js';
import { DEVICE_INPUT_SCHEMA, deviceFromInput, type Device } from './device-registry.js';
import { TENANT_INPUT_SCHEMA, type TenantInput } from './tenant-store.js';

/** A device in a fleet or seed file: the registry record plus an optional simulation profile (src/sim). */
export const FLEET_DEVICE_SCHEMA = DEVICE_INPUT_SCHEMA.extend({ sim: z.unknown().optional() });

export const DEVICE_FILE_SCHEMA = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  /** Defaults applied to every device of the file. */
  defaults: z.record(z.string(), z.unknown()).optional(),
  /** Enterprises the devices belong to (registered when missing). */
  tenants: z.array(TENANT_INPUT_SCHEMA).optional(),
  devices: z.array(z.record(z.string(), z.unknown())).min(1),
});

export interface DeviceFile {
  tenants: TenantInput[];
  devices: FleetDevice[];
}

export interface FleetDevice {
  device: Device;
  sim?: unknown;
}

/** Loads a YAML (or JSON) device file: every problem reported as file:line. */
export function loadDeviceFile(path: string, display = path): ({ ok: true } & DeviceFile) | { ok: false; problems: YamlProblem[] } {
  const schema = DEVICE_FILE_SCHEMA.transform((f, ctx) => {
    const out: FleetDevice[] = [];
    f.devices.forEach((raw, i) => {
      const r = FLEET_DEVICE_SCHEMA.safeParse({ ...f.defaults, ...raw });
      if (!r.success) {
        for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: ['devices', i, ...(issue.path as (string | number)[])], message: issue.message });
        return;
      }
      const { sim, ...input } = r.data;
      out.push({ device: deviceFromInput(input), sim });
    });
    return { tenants: f.tenants ?? [], devices: out };
  });
  // Generated fleets (devices/fleets/city.yaml: 20 000 one-line entries) take ~3 s through the full YAML parser and
  // ~0.3 s through the compact reader; anything it does not read, or that fails the schema, goes the full way (with
  // file:line:col problems).
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  const compact = text === undefined ? undefined : parseCompactYaml(text);
  if (compact !== undefined) {
    const fast = schema.safeParse(compact);
    if (fast.success) return { ok: true, ...fast.data };
  }
  const res = loadYamlFile(path, schema, display);
  return res.ok ? { ok: true, ...res.value } : res;
}
