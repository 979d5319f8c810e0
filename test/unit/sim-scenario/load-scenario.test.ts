import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { loadScenarioDir, parseScenario } from '../../../src/sim/scenario/index.js';
import { scenarioOf, scenarioYaml } from './fixture.js';

/** Every problem of a text, formatted `file:line:col path: message`. */
function problems(text: string): string[] {
  const r = parseScenario(text, 'fixture.yaml');
  return r.ok ? [] : r.problems.map(formatYamlProblem);
}

describe('sim/scenario loader', () => {
  test('a valid scenario is normalised: offsets in ms, devices resolved, defaults applied', () => {
    const s = scenarioOf(scenarioYaml());
    expect(s).toMatchObject({ name: 'unit-fixture', startMs: Date.parse('2025-03-15T03:00:00Z'), seed: 1, keepTimeOfDay: false, durationMs: 40_000 });
    expect(s.devices.map((d) => d.device)).toMatchObject([
      { tenant: 't1', deviceId: 'gas-1', kind: 'gas', heartbeatS: 60 },
      { tenant: 't1', deviceId: 'smoke-1', kind: 'smoke' },
    ]);
    expect(s.timeline.map((e) => [e.device, e.readingOffsetsMs, e.batchAtMs, e.channel, e.tsFormat])).toEqual([
      [0, [0, 20_000, 40_000], undefined, 'telemetry', 'epoch_ms'],
      [1, [30_000], undefined, 'telemetry', 'beijing'],
    ]);
    expect(s.expect).toEqual([{ device: 1, event: 'raised', rule: 'smoke.alarm', level: 2, historical: false, title: undefined }]);
  });

  test('a reference to a device that is not in the scenario is reported at its line', () => {
    const text = scenarioYaml({ expect: '  - { device: gas-9, event: raised, rule: gas.lel, level: 3 }' });
    const line = text.split('\n').findIndex((l) => l.includes('gas-9')) + 1;
    expect(problems(text)).toEqual([`fixture.yaml:${line}:15 expect[0].device: no device "gas-9" in devices`]);
  });

  test('a device id used by two tenants must be written tenant/device_id', () => {
    const text = scenarioYaml()
      .replace("  - { tenant: t1, device_id: smoke-1,", "  - { tenant: t2, device_id: gas-1, kind: gas, heartbeat_s: 60 }\n  - { tenant: t1, device_id: smoke-1,");
    expect(problems(text)).toEqual([expect.stringMatching(/^fixture\.yaml:\d+:\d+ timeline\[0\]\.device: "gas-1" is ambiguous: write tenant\/device_id$/)]);
    expect(problems(text.replace('  - device: gas-1', '  - device: t1/gas-1'))).toEqual([]);
  });

  test('every shape problem is reported at once, each at its own line', () => {
    const text = scenarioYaml({
      head: 'duration: soon\nspeed: 3',
      timeline: `  - device: gas-1
    from: 0s
    every: 10s
    data: { concentration_lel: 5 }
  - device: gas-1
    at: 1m
    data: {}`,
      expect: '  - { device: gas-1, event: exploded, rule: Gas.LEL, level: 5 }',
    });
    const got = problems(text);
    const lineOf = (needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(got).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^fixture\\.yaml:${lineOf('duration: soon')}:\\d+ duration: must be an offset`)),
        'fixture.yaml:1:1 Unrecognized key: "speed"',
        expect.stringMatching(new RegExp(`^fixture\\.yaml:${lineOf('from: 0s')}:\\d+ timeline\\[0\\]\\.from: a series needs from, until and every`)),
        expect.stringMatching(new RegExp(`^fixture\\.yaml:${lineOf('data: {}')}:\\d+ timeline\\[1\\]\\.data: give at least one field`)),
        expect.stringMatching(/expect\[0\]\.event: /),
        expect.stringMatching(/expect\[0\]\.rule: must be a rule id/),
        expect.stringMatching(/expect\[0\]\.level: must be 1 \(红\)/),
      ]),
    );
    expect(got).toHaveLength(7);
  });

  test('a reading the kind would reject is reported at its field, for the noise at either end of its band', () => {
    // 99 %LEL ± 2 reaches 101 %LEL at the top of the noise band: some seeds would send an invalid reading.
    const text = scenarioYaml({
      timeline: `  - device: gas-1
    at: 0s
    data:
      gas_type: CH4
      concentration_lel: { points: [[0s, 99]], noise: 2, decimals: 1 }`,
      expect: '  []',
    });
    const line = text.split('\n').findIndex((l) => l.includes('concentration_lel')) + 1;
    expect(problems(text)).toEqual([
      `fixture.yaml:${line}:26 timeline[0].data.concentration_lel: the reading at 0 min (noise at its highest) is not a valid gas reading: data.concentration_lel: must be ≤ 100 (%LEL), got 101`,
    ]);
    expect(problems(text.replace('noise: 2, decimals: 1', 'noise: 2, decimals: 1, max: 100'))).toEqual([]);
  });

  test('an unknown field of the kind is reported (wire payloads are strict)', () => {
    const text = scenarioYaml({ timeline: '  - { device: smoke-1, at: 0s, data: { alarm: true, smoke_level: 3 } }', expect: '  []' });
    expect(problems(text)).toEqual([expect.stringMatching(/timeline\[0\]\.data\.smoke_level: the reading at 0 min .* data\.smoke_level: unknown field for kind smoke$/)]);
  });

  test('a batch needs its upload time after its last reading, and the timeline must fit in the duration', () => {
    const batch = (at: string, duration = '1h') =>
      scenarioYaml({
        head: `duration: ${duration}`,
        timeline: `  - { device: gas-1, from: 0s, until: 10m, every: 5m, batch: true, at: ${at}, data: { concentration_lel: 1 } }`,
        expect: '  []',
      });
    expect(problems(batch('20m'))).toEqual([]);
    expect(scenarioOf(batch('20m')).timeline[0]).toMatchObject({ readingOffsetsMs: [0, 300_000], batchAtMs: 1_200_000 });
    expect(problems(batch('4m'))).toEqual([expect.stringMatching(/timeline\[0\]\.at: a batch is uploaded after its last reading$/)]);
    expect(problems(batch('20m', '15m'))).toEqual([expect.stringMatching(/duration: the timeline sends until 20 min, after the duration$/)]);
    expect(problems(scenarioYaml({ timeline: '  - { device: gas-1, from: 0s, until: 10m, every: 5m, at: 20m, data: { concentration_lel: 1 } }', expect: '  []' }))).toEqual([
      expect.stringMatching(/timeline\[0\]\.at: at with a series is the upload time of a batch: set batch: true$/),
    ]);
  });

  test('a YAML syntax error is reported with its line', () => {
    expect(problems('name: x\ntitle: [unclosed\n')).toEqual([expect.stringMatching(/^fixture\.yaml:\d+:\d+ /)]);
  });

  test('a directory loads in file-name order and a name used twice is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-scn-'));
    try {
      writeFileSync(join(dir, 'b.yaml'), scenarioYaml());
      writeFileSync(join(dir, 'a.yaml'), scenarioYaml().replace('name: unit-fixture', 'name: first'));
      writeFileSync(join(dir, 'notes.txt'), 'not a scenario');
      const ok = loadScenarioDir(dir, 'scn');
      expect(ok.ok && ok.value.map((s) => s.name)).toEqual(['first', 'unit-fixture']);
      writeFileSync(join(dir, 'c.yml'), scenarioYaml());
      const dup = loadScenarioDir(dir, 'scn');
      expect(dup.ok ? [] : dup.problems.map(formatYamlProblem)).toEqual(['scn/c.yml:1:1 name: scenario unit-fixture is also defined in scn/b.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
