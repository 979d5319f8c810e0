import { describe, expect, test } from 'vitest';
import { compareEvents, formatOffset, type ObservedEvent } from '../../../src/sim/scenario/index.js';
import { scenarioOf, scenarioYaml } from './fixture.js';

const s = scenarioOf(
  scenarioYaml({
    expect: `  - { device: gas-1, event: raised, rule: gas.lel, level: 3, title: 可燃气体浓度一级报警 }
  - { device: smoke-1, event: raised, rule: smoke.alarm, level: 2 }
  - { device: gas-1, event: level_changed, rule: gas.lel, level: 2 }`,
  }),
);

const ev = (device: string, type: string, rule: string, level: number, extra: Partial<ObservedEvent['alert']> & { at?: number } = {}): ObservedEvent => {
  const { at, ...alert } = extra;
  return { type, at, alert: { tenant: 't1', device_id: device, rule_id: rule, level, historical: false, title: '可燃气体浓度一级报警', ...alert } };
};

describe('sim/scenario compareEvents', () => {
  test('the same events per device match, whatever the order across devices', () => {
    const got = [ev('smoke-1', 'raised', 'smoke.alarm', 2, { title: '烟雾火警' }), ev('gas-1', 'raised', 'gas.lel', 3), ev('gas-1', 'level_changed', 'gas.lel', 2)];
    expect(compareEvents(s, got)).toEqual({ ok: true, report: '' });
  });

  test('a missing, extra, reordered or different event fails, with the device side by side', () => {
    const swapped = compareEvents(s, [ev('gas-1', 'level_changed', 'gas.lel', 2, { at: s.startMs + 95_000 }), ev('gas-1', 'raised', 'gas.lel', 3), ev('smoke-1', 'raised', 'smoke.alarm', 2)]);
    expect(swapped.ok).toBe(false);
    expect(swapped.report).toContain('t1/gas-1:');
    expect(swapped.report).toMatch(/0 ✗ expected raised gas\.lel L3 «可燃气体浓度一级报警» +got level_changed gas\.lel L2 «可燃气体浓度一级报警» at \+1m35s/);
    expect(swapped.report).not.toContain('smoke-1');
    const short = compareEvents(s, [ev('gas-1', 'raised', 'gas.lel', 3), ev('smoke-1', 'raised', 'smoke.alarm', 2)]);
    expect(short.report).toMatch(/1 ✗ expected level_changed gas\.lel L2 +got —/);
    const historical = compareEvents(s, [ev('gas-1', 'raised', 'gas.lel', 3, { historical: true }), ev('gas-1', 'level_changed', 'gas.lel', 2), ev('smoke-1', 'raised', 'smoke.alarm', 2)]);
    expect(historical.report).toMatch(/got raised gas\.lel L3 historical/);
  });

  test('an expected title is compared; events of devices outside the scenario are unexpected', () => {
    const title = compareEvents(s, [ev('gas-1', 'raised', 'gas.lel', 3, { title: '别的标题' }), ev('gas-1', 'level_changed', 'gas.lel', 2), ev('smoke-1', 'raised', 'smoke.alarm', 2)]);
    expect(title.ok).toBe(false);
    const gateway: ObservedEvent = { type: 'raised', alert: { tenant: '_gateway', device_id: 'ingest', rule_id: 'gateway.ingest_stalled', level: 2, historical: false, title: '网关数据接收中断' } };
    const extra = compareEvents(s, [ev('gas-1', 'raised', 'gas.lel', 3), ev('gas-1', 'level_changed', 'gas.lel', 2), ev('smoke-1', 'raised', 'smoke.alarm', 2), gateway]);
    expect(extra.ok).toBe(false);
    expect(extra.report).toMatch(/^_gateway\/ingest \(not a device of the scenario\):\n +0 ✗ expected — +got raised gateway\.ingest_stalled L2$/);
  });

  test('formatOffset writes hours, minutes and seconds', () => {
    expect([0, 5_000, 95_000, 3_600_000, 4 * 3_600_000 + 90_000].map(formatOffset)).toEqual(['+0s', '+5s', '+1m35s', '+1h0m0s', '+4h1m30s']);
  });
});
