import { readFileSync } from 'node:fs';
import { parseYaml, type YamlProblem } from '../config/yaml-file.js';
import { DEVICE_FILE_SCHEMA, FLEET_DEVICE_SCHEMA, type FleetDevice } from '../registry/seed.js';
import { deviceFromInput } from '../registry/device-registry.js';
import type { TenantInput } from '../registry/tenant-store.js';
import { parseCompactYaml } from '../config/compact-yaml.js';
import type { ModelCatalog } from './models.js';
import { resolveProfile, type SimProfile } from './profile.js';

/** A fleet file read for simulation: the registry records plus each simulated device's profile. */
export interface SimFleet {
  /** `name:` of the file, or its path. */
  name: string;
  tenants: TenantInput[];
  devices: FleetDevice[];
  /** One per simulated device, in file order. */
  profiles: SimProfile[];
  /** Devices registered by the file but not simulated (no `sim:` block and no known model). */
  unsimulated: FleetDevice[];
}

export type SimFleetResult = ({ ok: true } & SimFleet) | { ok: false; problems: YamlProblem[] };

/**
 * Reads a fleet file (the format of src/registry/seed.ts, so the same file seeds the gateway with REGISTRY_SEED) and
 * resolves every device's simulation profile against the models. Registry and `sim:` problems alike come back as
 * file:line.
 */
export function loadSimFleet(file: string, models: ModelCatalog, display = file): SimFleetResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ file: display, line: 1, col: 1, path: '', message: (err as Error).message }] };
  }
  const schema = DEVICE_FILE_SCHEMA.transform((f, ctx) => {
    const devices: FleetDevice[] = [];
    const profiles: SimProfile[] = [];
    const unsimulated: FleetDevice[] = [];
    const seen = new Set<string>();
    f.devices.forEach((raw, i) => {
      const r = FLEET_DEVICE_SCHEMA.safeParse({ ...f.defaults, ...raw });
      if (!r.success) {
        for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: ['devices', i, ...(issue.path as (string | number)[])], message: issue.message });
        return;
      }
      const { sim, ...input } = r.data;
      const fd: FleetDevice = { device: deviceFromInput(input), sim };
      const key = `${fd.device.tenant}/${fd.device.deviceId}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'device_id'], message: `${key} appears twice` });
      seen.add(key);
      devices.push(fd);
      const res = resolveProfile(fd.device, sim, models);
      for (const issue of res.issues) ctx.addIssue({ code: 'custom', path: ['devices', i, ...issue.path], message: issue.message });
      if (res.profile) profiles.push(res.profile);
      else if (res.issues.length === 0) unsimulated.push(fd);
    });
    return { name: f.name ?? display, tenants: f.tenants ?? [], devices, profiles, unsimulated };
  });
  // Generated fleets (one entry per line) take the fast path; anything else, and any invalid file, the full parser,
  // which locates every problem.
  const compact = parseCompactYaml(text);
  if (compact) {
    const fast = schema.safeParse(compact);
    if (fast.success) return { ok: true, ...fast.data };
  }
  const res = parseYaml(text, display, schema);
  return res.ok ? { ok: true, ...res.value } : res;
}
