import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import type { ThresholdRule } from '../../../src/rules/evaluators/threshold.js';
import { loadRules, resolveRule } from '../../../src/rules/loader.js';

const BASE = `kind: gas
rules:
  - id: gas.lel
    type: threshold
    title: 可燃气体浓度报警
    standard: GB/T 50493-2019 §5.5
    field: concentration_lel
    levels:
      - { level: 2, value: 50, clear: 45 }
      - { level: 3, value: 25, clear: 22 }
`;

let dir: string;
function rulesDir(overrides: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'rg-ovr-'));
  writeFileSync(join(dir, 'gas.yaml'), BASE);
  mkdirSync(join(dir, 'overrides'));
  for (const [name, text] of Object.entries(overrides)) writeFileSync(join(dir, 'overrides', name), text);
  return dir;
}
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dev = (tenant: string, region?: string) => ({ tenant, region });

describe('rules/overrides', () => {
  test('the most specific override applies: tenant + region, then tenant, then the longest region prefix', () => {
    const res = loadRules(
      rulesDir({
        'a.yaml': `overrides:
  - { rule: gas.lel, region: "51", set: { levels: [{ level: 3, value: 30 }] } }
  - { rule: gas.lel, region: "5101", set: { levels: [{ level: 3, value: 20 }] } }
  - { rule: gas.lel, tenant: homes, set: { levels: [{ level: 2, value: 15 }] } }
  - { rule: gas.lel, tenant: homes, region: "510104", set: { enabled: false } }
`,
      }),
      dir,
    );
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const base = res.rules.byId.get('gas.lel') as ThresholdRule;
    const levelsFor = (d: { tenant: string; region?: string }) => (resolveRule(res.rules, base, d) as ThresholdRule).levels.map((l) => `${l.level}@${l.value}`);
    expect(levelsFor(dev('shop', '440305'))).toEqual(['2@50', '3@25']);
    expect(levelsFor(dev('shop', '510000'))).toEqual(['3@30']);
    expect(levelsFor(dev('shop', '510104'))).toEqual(['3@20']);
    expect(levelsFor(dev('homes', '510107'))).toEqual(['2@15']);
    expect(resolveRule(res.rules, base, dev('homes', '510104')).enabled).toBe(false);
    expect(resolveRule(res.rules, base, dev('homes', '510104')).source).toBe('overrides/a.yaml');
    expect(res.rules.files).toContain('overrides/a.yaml');
  });

  test('a bad override is reported at file:line and rejects the whole set', () => {
    const res = loadRules(
      rulesDir({
        'b.yaml': `overrides:
  - rule: gas.lel
    tenant: homes
    set:
      levels:
        - { level: 9, value: 15 }
  - rule: gas.nope
    region: "51"
    set: {}
  - rule: gas.lel
    set: { for: 1m }
`,
      }),
      dir,
    );
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.problems.map(formatYamlProblem)).toEqual([
      expect.stringMatching(/^overrides\/b\.yaml:6:\d+ overrides\[0\]\.set\.levels\[0\]\.level: must be 1/),
      expect.stringMatching(/^overrides\/b\.yaml:7:\d+ overrides\[1\]\.rule: no rule gas\.nope to override/),
      expect.stringMatching(/^overrides\/b\.yaml:10:\d+ overrides\[2\]\.tenant: an override needs a tenant and\/or a region/),
    ]);
  });

  test('the shipped household override sets jinjiang-homes to 20 %LEL', () => {
    const res = loadRules(join(import.meta.dirname, '../../../alert-rules'));
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const base = res.rules.byId.get('gas.lel') as ThresholdRule;
    expect((resolveRule(res.rules, base, dev('jinjiang-homes', '510104')) as ThresholdRule).levels[0]).toMatchObject({ level: 2, value: 20 });
    expect(resolveRule(res.rules, base, dev('chuanwei-hotpot', '510104'))).toBe(base);
  });
});
