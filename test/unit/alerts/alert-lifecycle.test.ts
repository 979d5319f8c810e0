import { afterEach, describe, expect, test } from 'vitest';
import type { AlertEvent } from '../../../src/alerts/alert.js';
import { RiskgateError } from '../../../src/lib/errors.js';
import { device, startEngineHarness, type EngineHarness, type HarnessOptions } from '../../helpers/engine-harness.js';

const RULES = `kind: gas
rules:
  - id: g.offline
    type: offline
    title: 燃气探测器离线
    standard: domain.md G8
    floor: 10m
  - id: g.lel
    type: threshold
    title: 可燃气体浓度报警
    standard: GB/T 50493-2019 §5.5
    field: concentration_lel
    levels:
      - { level: 2, value: 50, clear: 45 }
      - { level: 3, value: 25, clear: 22 }
  - id: g.batt
    type: threshold
    title: 电量低
    standard: domain.md G7
    field: battery_pct
    direction: below
    levels: [{ level: 4, value: 20, clear: 25 }]
  - id: g.co
    type: threshold
    title: 一氧化碳超限
    standard: domain.md G10
    field: concentration_ppm
    for: 60s
    levels: [{ level: 3, value: 24, clear: 20 }]
`;

const GAS1 = device('acme', 'gas-1', 'gas');
const GAS2 = device('acme', 'gas-2', 'gas', { site: 'site-2' });

let h: EngineHarness;
function start(opts: Partial<HarnessOptions> = {}): EngineHarness {
  // The ingest-stall watchdog is off (24 h) except where a test is about it.
  h = startEngineHarness({ ruleFiles: { 'gas.yaml': RULES }, devices: [GAS1, GAS2], engine: { ingestStallMs: 86_400_000 }, ...opts });
  return h;
}
afterEach(() => h?.close());

const seqOf = (events: AlertEvent[]) => events.map((e) => `${e.type}:${e.alert.device_id}:${e.alert.rule_id}${e.actor === 'system' ? '' : `@${e.actor}`}`);

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RiskgateError);
    expect((err as RiskgateError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('alerts/lifecycle', () => {
  test('acknowledge, assign, comment and close are audited events with actor and note', () => {
    start();
    h.feed(GAS1, { concentration_lel: 55 });
    const id = (h.events[0] as AlertEvent).alert_id;
    h.alerts.acknowledge(id, 'zhang.wei', '已电话联系店长');
    h.alerts.assign(id, 'zhang.wei', 'li.na', null);
    h.alerts.comment(id, 'li.na', '到场检查，阀门已关闭');
    h.feed(GAS1, { concentration_lel: 3 });
    h.alerts.close(id, 'li.na', 'real_incident', '软管老化漏气，已更换');
    expect(seqOf(h.events)).toEqual([
      'raised:gas-1:g.lel',
      'acknowledged:gas-1:g.lel@zhang.wei',
      'assigned:gas-1:g.lel@zhang.wei',
      'commented:gas-1:g.lel@li.na',
      'cleared:gas-1:g.lel',
      'closed:gas-1:g.lel@li.na',
    ]);
    const trail = h.store.eventsOf(id);
    expect(trail.map((e) => e.note)).toEqual([null, '已电话联系店长', 'assigned to li.na', '到场检查，阀门已关闭', null, '软管老化漏气，已更换']);
    expect(trail.at(-1)?.alert).toMatchObject({ handling: 'closed', disposition: 'real_incident', closed_by: 'li.na', acknowledged_by: 'zhang.wei', assignee: 'li.na' });
    expect(h.events.map((e) => e.seq)).toEqual(trail.map((e) => e.seq));
  });

  test('invalid transitions are refused with RG_ERR_ALERT_INVALID_TRANSITION', () => {
    start();
    h.feed(GAS1, { concentration_lel: 55 });
    const id = (h.events[0] as AlertEvent).alert_id;
    h.alerts.acknowledge(id, 'a', null);
    expectCode(() => h.alerts.acknowledge(id, 'b', null), 'RG_ERR_ALERT_INVALID_TRANSITION');
    h.alerts.close(id, 'a', 'false_alarm', '探头受油烟干扰');
    expectCode(() => h.alerts.comment(id, 'a', 'x'), 'RG_ERR_ALERT_INVALID_TRANSITION');
    expectCode(() => h.alerts.close(id, 'a', 'test', 'x'), 'RG_ERR_ALERT_INVALID_TRANSITION');
    expectCode(() => h.alerts.acknowledge(9999, 'a', null), 'RG_ERR_API_NOT_FOUND');
  });

  test('a level 2 alert stays open when the device clears; a level 4 alert closes by itself', () => {
    start();
    h.feed(GAS1, { concentration_lel: 55, battery_pct: 15 });
    h.clock.advance(1000);
    h.feed(GAS1, { concentration_lel: 2, battery_pct: 90 });
    expect(seqOf(h.events)).toEqual(['raised:gas-1:g.lel', 'raised:gas-1:g.batt', 'cleared:gas-1:g.lel', 'cleared:gas-1:g.batt', 'closed:gas-1:g.batt']);
    expect(h.alerts.openAlert('acme', 'gas-1', 'g.lel')).toMatchObject({ condition: 'cleared', handling: 'new', level: 2 });
    expect(h.alerts.openAlert('acme', 'gas-1', 'g.batt')).toBeUndefined();
    expect(h.events.at(-1)?.alert.disposition).toBe('auto_resolved');
  });

  test('an alert closed while still active is not raised again until the condition clears and returns', () => {
    start();
    h.feed(GAS1, { concentration_lel: 55 });
    h.alerts.close((h.events[0] as AlertEvent).alert_id, 'op', 'maintenance', '维保中');
    h.clock.advance(1000);
    h.feed(GAS1, { concentration_lel: 56 });
    h.feed(GAS1, { concentration_lel: 57 });
    expect(seqOf(h.events)).toEqual(['raised:gas-1:g.lel', 'closed:gas-1:g.lel@op']);
    h.feed(GAS1, { concentration_lel: 1 });
    h.feed(GAS1, { concentration_lel: 60 });
    expect(seqOf(h.events)).toEqual(['raised:gas-1:g.lel', 'closed:gas-1:g.lel@op', 'raised:gas-1:g.lel']);
    expect(h.events[2]?.alert_id).not.toBe(h.events[0]?.alert_id);
  });
});

describe('alerts/noise control', () => {
  test('a rule flipping more than 6 times in 10 min becomes one flapping alert, held until stable', () => {
    start();
    for (let i = 0; i < 12; i++) {
      h.feed(GAS1, { concentration_lel: i % 2 === 0 ? 30 : 5 });
      h.advance(10_000);
    }
    const lel = () => h.events.filter((e) => e.alert.rule_id === 'g.lel');
    expect(lel().map((e) => e.type)).toEqual(['raised', 'cleared', 'reactivated', 'cleared', 'reactivated', 'cleared', 'flapping_started']);
    expect(h.alerts.openAlert('acme', 'gas-1', 'g.lel')).toMatchObject({ flapping: true, condition: 'active' });
    // Stable (cleared) for the flap window: flapping ends with the real condition.
    h.advance(10 * 60_000, 5000);
    expect(lel().at(-1)).toMatchObject({ type: 'flapping_ended', alert: { flapping: false, condition: 'cleared' } });
    expect(lel()).toHaveLength(8);
  });

  test('a silence for a site records the alert as silenced and it is never escalated', () => {
    start();
    h.alerts.createSilence({ site: 'site-2', ends_at: h.clock.now() + 3_600_000, reason: '燃气管道改造', actor: 'op' });
    h.feed(GAS2, { concentration_lel: 60 });
    h.feed(GAS1, { concentration_lel: 60 });
    expect(h.events.map((e) => [e.alert.device_id, e.alert.silenced, e.note])).toEqual([
      ['gas-2', true, 'silenced'],
      ['gas-1', false, null],
    ]);
    for (let i = 0; i < 11; i++) {
      h.advance(60_000, 30_000);
      h.feed(GAS1, { concentration_lel: 60 });
      h.feed(GAS2, { concentration_lel: 60 });
    }
    expect(seqOf(h.events.filter((e) => e.type === 'escalated'))).toEqual(['escalated:gas-1:g.lel']);
    expect(h.store.silences({ activeAt: h.clock.now() })).toHaveLength(1);
  });

  test('an unacknowledged level 2 alert escalates after 10 min and again after 20; acknowledging stops it', () => {
    start();
    h.feed(GAS1, { concentration_lel: 60 });
    const id = (h.events[0] as AlertEvent).alert_id;
    const lel = () => h.events.filter((e) => e.alert_id === id).map((e) => e.type);
    const minutes = (n: number): void => {
      for (let i = 0; i < n; i++) {
        h.advance(60_000, 30_000);
        h.feed(GAS1, { concentration_lel: 60 });
        h.feed(GAS2, { concentration_lel: 1 });
      }
    };
    minutes(9);
    expect(lel()).toEqual(['raised']);
    minutes(1);
    expect(lel()).toEqual(['raised', 'escalated']);
    minutes(10);
    expect(lel()).toEqual(['raised', 'escalated', 'escalated']);
    expect(h.alerts.get(id)?.escalations).toBe(2);
    h.alerts.acknowledge(id, 'op', null);
    minutes(30);
    expect(lel()).toEqual(['raised', 'escalated', 'escalated', 'acknowledged']);
  });

  test('a silent device goes offline once, its value alert is not escalated meanwhile, and its next reading clears it', () => {
    start({ policy: { escalateAfterMs: { 1: 3 * 60_000, 2: 15 * 60_000, 3: 30 * 60_000, 4: 120 * 60_000 } } });
    h.feed(GAS1, { concentration_lel: 60 });
    h.feed(GAS2, { concentration_lel: 1 });
    for (let i = 0; i < 30; i++) {
      h.advance(60_000, 5000);
      h.feed(GAS2, { concentration_lel: 1 }); // gas-2 keeps reporting; gas-1 is silent
    }
    expect(seqOf(h.events)).toEqual(['raised:gas-1:g.lel', 'raised:gas-1:g.offline']);
    expect(h.events[1]?.alert).toMatchObject({ level: 4, rule_type: 'offline' });
    h.feed(GAS1, { concentration_lel: 61 });
    expect(seqOf(h.events).slice(2)).toEqual(['cleared:gas-1:g.offline', 'closed:gas-1:g.offline']);
  });

  test('when the whole ingest stalls one gateway alert is raised, not one offline alert per device', () => {
    start({ engine: { ingestStallMs: 5 * 60_000 } });
    h.feed(GAS1, { concentration_lel: 1 });
    h.feed(GAS2, { concentration_lel: 1 });
    h.advance(60 * 60_000, 10_000);
    const transitions = () => seqOf(h.events.filter((e) => e.type !== 'escalated'));
    expect(transitions()).toEqual(['raised:ingest:gateway.ingest_stalled']);
    expect(h.events[0]?.alert).toMatchObject({ tenant: '_gateway', kind: 'gateway', level: 2, title: '网关数据接收中断' });
    // Ingest resumes with gas-1 only: the stall clears, and gas-2's silence counts from the resumption.
    h.feed(GAS1, { concentration_lel: 1 });
    expect(transitions().slice(1)).toEqual(['cleared:ingest:gateway.ingest_stalled']);
    for (let i = 0; i < 9; i++) {
      h.advance(60_000, 10_000);
      h.feed(GAS1, { concentration_lel: 1 });
    }
    expect(transitions()).toHaveLength(2);
    for (let i = 0; i < 3; i++) {
      h.advance(60_000, 10_000);
      h.feed(GAS1, { concentration_lel: 1 });
    }
    expect(transitions().slice(2)).toEqual(['raised:gas-2:g.offline']);
  });
});

describe('alerts/history and restarts', () => {
  test('back-dated readings open a historical alert beside the live state and are never escalated', () => {
    start();
    h.feed(GAS1, { concentration_lel: 2 });
    h.feed(GAS2, { concentration_lel: 2 });
    const old = h.clock.now() - 2 * 3_600_000;
    h.feed(GAS1, { concentration_lel: 40 }, { ts: old });
    h.feed(GAS1, { concentration_lel: 3 }, { ts: old + 60_000 });
    expect(h.events.map((e) => [e.type, e.alert.historical])).toEqual([
      ['raised', true],
      ['cleared', true],
    ]);
    expect(h.alerts.openAlert('acme', 'gas-1', 'g.lel')).toBeUndefined();
    // A live breach now opens the live alert beside the historical one.
    h.feed(GAS1, { concentration_lel: 30 });
    expect(h.events.at(-1)).toMatchObject({ type: 'raised', alert: { historical: false } });
    for (let i = 0; i < 40; i++) {
      h.advance(60_000, 30_000);
      h.feed(GAS1, { concentration_lel: 30 });
      h.feed(GAS2, { concentration_lel: 2 });
    }
    expect(h.events.filter((e) => e.type === 'escalated').map((e) => [e.alert.rule_id, e.alert.historical])).toEqual([['g.lel', false]]);
  });

  test('an open historical alert still clears after a restart dropped the in-memory history state', () => {
    start();
    h.feed(GAS1, { concentration_lel: 2 });
    const old = h.clock.now() - 2 * 3_600_000;
    h.feed(GAS1, { concentration_lel: 40 }, { ts: old });
    h.restart(); // history state is in memory only; the historical alert is in SQLite
    h.feed(GAS1, { concentration_lel: 3 }, { ts: old + 60_000 });
    expect(h.events.map((e) => [e.type, e.alert.rule_id, e.alert.historical])).toEqual([
      ['raised', 'g.lel', true],
      ['cleared', 'g.lel', true],
    ]);
  });

  test('a back-dated upload flipping at the device pace is not flapping (it arrives all at once)', () => {
    start({ policy: { flapFlips: 3, flapWindowMs: 600_000 } });
    h.feed(GAS1, { concentration_lel: 2 });
    const old = h.clock.now() - 3 * 3_600_000;
    for (let i = 0; i < 12; i++) h.feed(GAS1, { concentration_lel: i % 2 === 0 ? 40 : 3 }, { ts: old + i * 300_000 });
    const types = h.events.map((e) => e.type);
    expect(types).not.toContain('flapping_started');
    expect(types.filter((t) => t === 'cleared')).toHaveLength(6);
    expect(types[0]).toBe('raised');
    expect(types.filter((t) => t === 'reactivated')).toHaveLength(5);
  });

  test('a half-elapsed for duration continues after a restart', () => {
    start();
    const t0 = h.clock.now();
    h.feed(GAS1, { concentration_ppm: 30 });
    h.advance(40_000);
    h.feed(GAS1, { concentration_ppm: 31 });
    h.advance(2000);
    h.restart();
    h.clock.set(t0 + 61_000);
    h.feed(GAS1, { concentration_ppm: 32 });
    expect(seqOf(h.events)).toEqual(['raised:gas-1:g.co']);
    expect(h.events[0]?.alert.raised_at).toBe(t0 + 61_000);
  });

  test('without the restart-safe state the same trace would still be pending (control)', () => {
    start();
    const t0 = h.clock.now();
    h.feed(GAS1, { concentration_ppm: 30 });
    h.advance(40_000);
    h.db.prepare('DELETE FROM rule_state').run();
    h.engine.stop = () => {}; // the state is not written on this "crash"
    h.restart();
    h.clock.set(t0 + 61_000);
    h.feed(GAS1, { concentration_ppm: 32 });
    expect(h.events).toEqual([]);
  });
});
