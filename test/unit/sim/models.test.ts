import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { KIND_NAMES } from '../../../src/kinds/kind.js';
import { loadModelFile, loadModels } from '../../../src/sim/models.js';

const dir = mkdtempSync(join(tmpdir(), 'rg-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid home gas model; each case below breaks one thing. */
const GOOD = `model: T-GAS
kind: gas
name: 测试燃气探测器
power: mains
network: NB-IoT
interval_s: 60
heartbeat_s: 300
fields:
  gas_type: CH4
  concentration_lel: { unit: '%LEL', range: [0, 2], noise: 0.2, decimals: 1, min: 0, max: 100 }
  rsrp_dbm: { unit: dBm, range: [-110, -80], noise: 2, decimals: 0, min: -140, max: -44 }
`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemsOf(name: string, text: string): string[] {
  const res = loadModelFile(write(name, text), name);
  return res.ok ? [] : res.problems.map(formatYamlProblem);
}

describe('sim/models', () => {
  test('the committed models load, with at least one model per kind and two for gas and smoke', () => {
    const res = loadModels('devices/models');
    if (!res.ok) throw new Error(res.problems.map(formatYamlProblem).join('\n'));
    const perKind = new Map<string, number>();
    for (const m of res.models.values()) perKind.set(m.kind, (perKind.get(m.kind) ?? 0) + 1);
    for (const k of KIND_NAMES) expect(perKind.get(k), k).toBeGreaterThanOrEqual(1);
    expect(perKind.get('gas')).toBeGreaterThanOrEqual(2);
    expect(perKind.get('smoke')).toBeGreaterThanOrEqual(2);
    for (const m of res.models.values()) expect(m.heartbeat_s).toBeGreaterThanOrEqual(m.interval_s);
  });

  test('a valid model file loads with its defaults', () => {
    const res = loadModelFile(write('T-GAS.yaml', GOOD));
    expect(res.ok && res.model.jitter).toBe(0.02);
  });

  test.each([
    { what: 'a field the kind does not have', edit: (t: string) => t.replace('gas_type: CH4', 'gas_typ: CH4'), want: /^T-GAS\.yaml:9:12 fields\.gas_typ: kind gas has no field gas_typ/ },
    { what: 'a unit that is not the kind’s', edit: (t: string) => t.replace("unit: '%LEL'", 'unit: ppm'), want: /^T-GAS\.yaml:10:\d+ fields\.concentration_lel\.unit: kind gas stores concentration_lel in %LEL/ },
    { what: 'a signal without its unit', edit: (t: string) => t.replace('unit: dBm, ', ''), want: /fields\.rsrp_dbm\.unit: kind gas stores rsrp_dbm in dBm; write unit: 'dBm'/ },
    { what: 'noise that can leave the kind’s range', edit: (t: string) => t.replace('range: [-110, -80], noise: 2, decimals: 0, min: -140, max: -44', 'range: [-60, -46], noise: 2, decimals: 0, min: -140'), want: /^T-GAS\.yaml:11:\d+ fields\.rsrp_dbm: the highest value this can produce .* rsrp_dbm: must be ≤ -44 \(dBm\), got -40/ },
    { what: 'a model id that is not the file name', edit: (t: string) => t.replace('model: T-GAS', 'model: T-OTHER'), want: /^T-GAS\.yaml:1:8 model: must equal the file name \(T-GAS\)/ },
    { what: 'a heartbeat shorter than the interval', edit: (t: string) => t.replace('heartbeat_s: 300', 'heartbeat_s: 30'), want: /^T-GAS\.yaml:7:14 heartbeat_s: must be ≥ interval_s \(60\)/ },
    { what: 'base and range together', edit: (t: string) => t.replace("range: [0, 2]", 'range: [0, 2], base: 1'), want: /fields\.concentration_lel: give either base or range/ },
    { what: 'a YAML syntax error', edit: (t: string) => t.replace('kind: gas', 'kind: [gas'), want: /^T-GAS\.yaml:\d+:\d+ Flow sequence/ },
  ])('$what is reported as file:line', ({ edit, want }) => {
    const problems = problemsOf('T-GAS.yaml', edit(GOOD));
    expect(problems.join('\n')).toMatch(want);
  });

  test('every problem of every file in a directory is reported at once', () => {
    const sub = mkdtempSync(join(dir, 'many-'));
    writeFileSync(join(sub, 'A.yaml'), GOOD.replace('model: T-GAS', 'model: A').replace('gas_type: CH4', 'nope: 1'));
    writeFileSync(join(sub, 'B.yaml'), GOOD.replace('model: T-GAS', 'model: B').replace('kind: gas', 'kind: radon'));
    const res = loadModels(sub);
    expect(res.ok).toBe(false);
    const files = res.ok ? [] : res.problems.map((p) => p.file);
    expect(files.some((f) => f.endsWith('A.yaml'))).toBe(true);
    expect(files.some((f) => f.endsWith('B.yaml'))).toBe(true);
  });
});
