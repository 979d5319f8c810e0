import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { ReceivedAlert, StreamAlertEvent } from '../../../src/loadtest/alert-matching.js';
import { checkExpected, formatExpected, readExpectationsFile, scenarioExpectations, type ExpectedAlert } from '../../../src/loadtest/expected-alerts.js';
import { loadScenarioFile, type Scenario } from '../../../src/sim/scenario/index.js';
import { REPO_ROOT } from '../../helpers/gateway.js';

function got(device: string, type: StreamAlertEvent['type'], rule: string, level: number, tenant = 't1'): ReceivedAlert {
  return {
    receivedAtMs: 0,
    event: { seq: 0, type, at: 0, actor: 'system', alert: { tenant, device_id: device, rule_id: rule, rule_type: 'threshold', level: level as 1, historical: false, title: '', raised_at: 0, last_at: 0, cleared_at: null } },
  };
}

const want = (device: string, event: ExpectedAlert['events'][number], rule: string, level?: number): ExpectedAlert => ({ device, events: [event], rule, level });

function scenario(name: string): Scenario {
  const res = loadScenarioFile(join(REPO_ROOT, 'devices/scenarios', `${name}.yaml`));
  if (!res.ok) throw new Error(JSON.stringify(res.problems));
  return res.value;
}

describe('expected-alerts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rg-expect-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('per device the expected events must appear in order; other events may lie between them', () => {
    const received = [got('a', 'raised', 'r', 3), got('b', 'raised', 'r', 2), got('a', 'escalated', 'r', 3), got('a', 'cleared', 'r', 3)];
    const c = checkExpected([want('t1/a', 'raised', 'r', 3), want('t1/a', 'cleared', 'r', 3), want('t1/b', 'raised', 'r', 2)], received);
    expect(c).toEqual({ expected: 3, arrived: 3, missing: [], skipped: [] });
  });

  test('an event out of order, of another level or another tenant does not count; a missing one does not hide later ones', () => {
    const received = [got('a', 'cleared', 'r', 3), got('a', 'raised', 'r', 2), got('a', 'raised', 'r', 3, 't2'), got('a', 'level_changed', 'r', 2)];
    const c = checkExpected([want('t1/a', 'raised', 'r', 3), want('t1/a', 'cleared', 'r', 3), want('t1/a', 'level_changed', 'r', 2)], received);
    expect(c.arrived).toBe(2);
    expect(c.missing.map(formatExpected)).toEqual(['t1/a raised r L3']);
  });

  test('a bare device id matches any tenant, a list of event types any of them, and no level any level', () => {
    const c = checkExpected([{ device: 'a', events: ['raised', 'reactivated'], rule: 'r' }], [got('a', 'reactivated', 'r', 1, 'zz')]);
    expect(c.missing).toEqual([]);
  });

  test('a compressed scenario expects its reading-driven events; escalation and offline rules are skipped', () => {
    const leak = scenarioExpectations(scenario('gas-leak-kitchen'));
    expect(leak.expected.map(formatExpected)).toEqual([
      'shuxiang-hotpot/gas-kitchen-01 raised gas.lel L3',
      'shuxiang-hotpot/gas-kitchen-01 level_changed gas.lel L2',
      'shuxiang-hotpot/gas-kitchen-01 raised gas.alarm_valve_open L1',
      'shuxiang-hotpot/gas-kitchen-01 cleared gas.alarm_valve_open L1',
      'shuxiang-hotpot/gas-kitchen-01 level_changed gas.lel L3',
      'shuxiang-hotpot/gas-kitchen-01 cleared gas.lel L3',
    ]);
    expect(leak.skipped.map((s) => s.reason)).toEqual(['escalated runs on the gateway clock']);
    const offline = scenarioExpectations(scenario('gas-detector-offline'), new Set(['gas.offline']));
    expect(offline.expected).toEqual([]);
    expect(offline.skipped).toHaveLength(3);
  });

  test('an expectations file is read from YAML, with one event type or a list', () => {
    const file = join(tmp, 'expect.yaml');
    writeFileSync(file, 'expect:\n  - { device: t1/gas-1, event: raised, rule: gas.lel, level: 3 }\n  - { device: gas-2, event: [raised, reactivated], rule: gas.lel }\n');
    expect(readExpectationsFile(file)).toEqual([
      { device: 't1/gas-1', events: ['raised'], rule: 'gas.lel', level: 3 },
      { device: 'gas-2', events: ['raised', 'reactivated'], rule: 'gas.lel', level: undefined },
    ]);
  });

  test('a bad expectations file names the entry and the field', () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify([{ device: 'x', event: 'exploded', rule: 'r' }]));
    expect(() => readExpectationsFile(file)).toThrow(/expect\[0\].*event/s);
  });
});
