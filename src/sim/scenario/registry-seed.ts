import { stringify } from 'yaml';
import type { Scenario } from './schema.js';

/**
 * The scenario's tenants and devices as a device file (src/registry/seed.ts): write it to a file and point
 * `REGISTRY_SEED` at it, so the gateway knows the devices before the first message arrives.
 */
export function scenarioSeedYaml(s: Scenario): string {
  return stringify({
    name: `scenario-${s.name}`,
    description: s.title,
    tenants: s.tenants,
    devices: s.devices.map((d) => d.input),
  });
}
