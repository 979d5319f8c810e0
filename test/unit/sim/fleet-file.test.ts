import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { loadDeviceFile } from '../../../src/registry/seed.js';
import { loadSimFleet } from '../../../src/sim/fleet-file.js';
import { committedModels, fleet } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rg-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const models = committedModels();

const HEAD = `tenants:
  - { tenant: t1, name: 测试企业, uscc: 91510104MA6CT0001U, region: "510104" }
devices:
`;

function problems(body: string): string[] {
  const file = join(dir, 'f.yaml');
  writeFileSync(file, HEAD + body);
  const res = loadSimFleet(file, models, 'f.yaml');
  return res.ok ? [] : res.problems.map(formatYamlProblem);
}

describe('sim/fleet-file', () => {
  test('the demo fleet loads unchanged: every device keeps its own sim block', () => {
    const demo = fleet('devices/fleets/demo.yaml');
    expect(demo.profiles).toHaveLength(15);
    const kitchen = demo.profiles.find((p) => p.device.deviceId === 'gas-kitchen-01');
    // JT-GD-100 is not a model file: the device's own sim block is all there is.
    expect(kitchen?.model).toBeUndefined();
    expect(kitchen?.intervalS).toBe(2);
    expect(Object.keys(kitchen?.fields ?? {})).toEqual(['gas_type', 'concentration_lel', 'valve_state', 'power_source', 'rsrp_dbm']);
    // The same file still seeds the registry.
    const seed = loadDeviceFile('devices/fleets/demo.yaml');
    expect(seed.ok && seed.devices.length).toBe(15);
  });

  test('a device naming a model inherits its interval and fields; its sim block overrides single keys and fields', () => {
    const file = join(dir, 'inherit.yaml');
    writeFileSync(
      file,
      `${HEAD}  - { tenant: t1, device_id: g1, kind: gas, model: RG-NB10, heartbeat_s: 3600 }
  - { tenant: t1, device_id: g2, kind: gas, model: RG-NB10, sim: { interval_s: 5, fields: { concentration_lel: { base: 3, decimals: 1 }, muted: true } } }
`,
    );
    const f = fleet(file);
    const [g1, g2] = f.profiles;
    const model = models.get('RG-NB10');
    expect(g1?.intervalS).toBe(model?.interval_s);
    expect(g1?.fields).toEqual(model?.fields);
    expect(g2?.intervalS).toBe(5);
    expect(g2?.fields.concentration_lel).toMatchObject({ base: 3 });
    expect(g2?.fields.muted).toBe(true);
    expect(g2?.fields.rsrp_dbm).toEqual(model?.fields.rsrp_dbm);
    expect(Object.keys(g2?.fields ?? {})).toEqual(Object.keys(model?.fields ?? {}));
  });

  test('a device without a sim block or a known model is registered but not simulated', () => {
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, `${HEAD}  - { tenant: t1, device_id: g1, kind: gas, model: SOMETHING-ELSE }\n`);
    const f = fleet(file);
    expect(f.profiles).toHaveLength(0);
    expect(f.unsimulated.map((d) => d.device.deviceId)).toEqual(['g1']);
  });

  test.each([
    { what: 'a sim block without fields and no known model', body: '  - { tenant: t1, device_id: g1, kind: gas, model: NOPE, sim: { interval_s: 5 } }\n', want: /^f\.yaml:4:\d+ devices\[0\]\.sim: give sim\.fields, or a model: from the models directory \(no model NOPE/ },
    { what: 'a model of another kind', body: '  - { tenant: t1, device_id: s1, kind: smoke, model: RG-NB10 }\n', want: /^f\.yaml:4:\d+ devices\[0\]\.model: model RG-NB10 is a gas model, the device is smoke/ },
    { what: 'a vehicle without a route', body: '  - { tenant: t1, device_id: "013900000001", kind: vehicle, model: RG-JT808-V1 }\n', want: /devices\[0\]\.sim\.route: a simulated vehicle needs a route/ },
    { what: 'a route on a gas detector', body: '  - { tenant: t1, device_id: g1, kind: gas, model: RG-NB10, sim: { route: [[30, 104], [30.1, 104]] } }\n', want: /devices\[0\]\.sim\.route: only vehicles drive a route/ },
    { what: 'an override value out of the kind’s range', body: '  - { tenant: t1, device_id: g1, kind: gas, model: RG-NB10, sim: { fields: { concentration_lel: { base: 120 } } } }\n', want: /^f\.yaml:4:\d+ devices\[0\]\.sim\.fields\.concentration_lel: .*must be ≤ 100 \(%LEL\), got 120/ },
    { what: 'an unknown sim key', body: '  - { tenant: t1, device_id: g1, kind: gas, model: RG-NB10, sim: { intervall_s: 5 } }\n', want: /devices\[0\]\.sim: Unrecognized key: "intervall_s"/ },
    { what: 'a device listed twice', body: '  - { tenant: t1, device_id: g1, kind: gas, model: RG-NB10 }\n  - { tenant: t1, device_id: g1, kind: gas, model: RG-NB10 }\n', want: /^f\.yaml:5:\d+ devices\[1\]\.device_id: t1\/g1 appears twice/ },
  ])('$what is reported as file:line', ({ body, want }) => {
    expect(problems(body).join('\n')).toMatch(want);
  });
});
