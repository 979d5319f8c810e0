import { parseScenario, type Scenario } from '../../../src/sim/scenario/index.js';

/** A small valid scenario: one gas detector, one smoke alarm; `timeline` / `expect` YAML replace the defaults. */
export function scenarioYaml(parts: { timeline?: string; expect?: string; head?: string } = {}): string {
  return `name: unit-fixture
title: 单元测试场景
start: '2025-03-15T11:00:00+08:00'
${parts.head ?? ''}
devices:
  - { tenant: t1, device_id: gas-1, kind: gas, region: '510104', heartbeat_s: 60 }
  - { tenant: t1, device_id: smoke-1, kind: smoke, region: '510104', heartbeat_s: 14400 }
timeline:
${
  parts.timeline ??
  `  - device: gas-1
    from: 0s
    until: 1m
    every: 20s
    data:
      gas_type: CH4
      concentration_lel: { points: [[0s, 10], [1m, 40]], noise: 1, decimals: 1, min: 0, max: 100 }
  - device: smoke-1
    at: 30s
    ts_format: beijing
    data: { alarm: true }`
}
expect:
${parts.expect ?? '  - { device: smoke-1, event: raised, rule: smoke.alarm, level: 2 }'}
`;
}

/** Parses fixture YAML, failing the test with every problem when it does not load. */
export function scenarioOf(text: string): Scenario {
  const r = parseScenario(text, 'fixture.yaml');
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`).join('\n'));
  return r.value;
}
