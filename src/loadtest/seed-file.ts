import type { Capture } from '../capture/capture-format.js';
import type { DeviceInput } from '../registry/device-registry.js';
import type { TenantInput } from '../registry/tenant-store.js';
import type { Scenario } from '../sim/scenario/index.js';
import type { SyntheticFleet } from './synthetic-fleet.js';

// The devices a load test publishes for, as one REGISTRY_SEED file (src/registry/seed.ts; JSON is YAML): a gateway
// started with it knows every device before the first message, so nothing is rejected as `unknown_device`.

/** The seed document: tenants (registered when missing) and devices, each device once. */
export function loadtestSeed(parts: { capture?: Capture; scenario?: Scenario; fleet?: SyntheticFleet }): { name: string; description: string; tenants: TenantInput[]; devices: DeviceInput[] } {
  const devices = new Map<string, DeviceInput>();
  const add = (d: DeviceInput): void => {
    const k = `${d.tenant}/${d.device_id}`;
    if (!devices.has(k)) devices.set(k, d);
  };
  for (const d of parts.capture?.header.devices ?? []) add(d);
  for (const d of parts.scenario?.devices ?? []) add(d.input);
  for (const d of parts.fleet?.seedDevices() ?? []) add(d);
  return {
    name: 'riskgate-loadtest',
    description: 'devices of a riskgate load test (riskgate loadtest --write-seed)',
    tenants: parts.scenario?.tenants ?? [],
    devices: [...devices.values()],
  };
}
