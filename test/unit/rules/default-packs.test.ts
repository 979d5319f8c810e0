import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { loadRules } from '../../../src/rules/loader.js';
import { EVALUATORS } from '../../../src/rules/registry.js';
import { run, wants, type Step } from './harness.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const loaded = loadRules(join(ROOT, 'alert-rules'), ROOT);
if (!loaded.ok) throw new Error(loaded.problems.map(formatYamlProblem).join('\n'));
const RULES = loaded.rules;

const H = 3600;
const flag = (field: string, level: number): Step[] => [
  { f: { [field]: false }, want: 'clear' },
  { f: { [field]: true }, want: `firing:${level}` },
  { f: { [field]: false }, want: 'clear' },
];
const tag = (field: string, value: string, level: number, normal: string): Step[] => [
  { t: { [field]: normal }, want: 'clear' },
  { t: { [field]: value }, want: `firing:${level}` },
];

/** Synthetic device histories for the shipped default rules, checking that each names real fields and fires as cited. */
const CASES: { id: string; steps: Step[] }[] = [
  {
    id: 'gas.oxygen',
    steps: [
      { f: { concentration_vol: 20.9 }, t: { gas_type: 'O2' }, want: 'clear' },
      { f: { concentration_vol: 19.4 }, t: { gas_type: 'O2' }, want: 'firing:2' },
      { f: { concentration_vol: 23.6 }, t: { gas_type: 'O2' }, want: 'firing:2' },
      { f: { concentration_lel: 3 }, t: { gas_type: 'CH4' }, want: 'clear' },
    ],
  },
  {
    id: 'gas.alarm_valve_open',
    steps: [
      { s: 0, f: { concentration_lel: 55 }, t: { valve_state: 'open' }, want: 'pending:1' },
      { s: 30, f: { concentration_lel: 60 }, t: { valve_state: 'open' }, want: 'firing:1' },
      { s: 40, f: { concentration_lel: 60 }, t: { valve_state: 'closed' }, want: 'clear' },
    ],
  },
  { id: 'gas.sensor_fault', steps: flag('sensor_fault', 4) },
  { id: 'gas.sensor_eol', steps: flag('sensor_eol', 4) },
  { id: 'gas.mains_fault', steps: flag('mains_fault', 4) },
  { id: 'gas.valve_fault', steps: tag('valve_state', 'fault', 4, 'open') },
  { id: 'gas.self_test_fail', steps: tag('self_test', 'fail', 4, 'ok') },
  {
    id: 'dust.diff_pressure_deviation',
    steps: [
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((h) => ({ s: h * H, f: { diff_pressure_pa: 1000, fan_running: true }, want: '-' })),
      { s: 8 * H, f: { diff_pressure_pa: 1150 }, want: 'clear' },
      { s: 9 * H, f: { diff_pressure_pa: 0, fan_running: false }, want: '-' },
      { s: 10 * H, f: { diff_pressure_pa: 1300, fan_running: true }, want: 'pending:3' },
      { s: 10 * H + 120, f: { diff_pressure_pa: 1300 }, want: 'firing:3' },
    ],
  },
  { id: 'dust.spark', steps: flag('spark_detected', 2) },
  {
    id: 'dust.spark_hot_hopper',
    steps: [
      { f: { spark_detected: true, hopper_temp_c: 50 }, want: 'clear' },
      { f: { spark_detected: true, hopper_temp_c: 72 }, want: 'firing:1' },
      { f: { spark_detected: false, hopper_temp_c: 72 }, want: 'clear' },
    ],
  },
  { id: 'dust.unloader_fault', steps: flag('unloader_fault', 3) },
  {
    id: 'dust.unloader_stopped',
    steps: [
      { s: 0, f: { fan_running: true, unloader_running: false }, want: 'pending:3' },
      { s: 300, f: { fan_running: true, unloader_running: false }, want: 'firing:3' },
      { s: 310, f: { fan_running: false, unloader_running: false }, want: 'clear' },
    ],
  },
  {
    id: 'dust.water_level_low',
    steps: [
      { f: { water_level_m: 0.8 }, want: 'clear' },
      { f: { water_level_m: 0.15 }, want: 'firing:3' },
    ],
  },
  {
    id: 'dust.water_flow_low',
    steps: [
      { s: 0, f: { water_flow: 0.5 }, want: 'pending:3' },
      { s: 60, f: { water_flow: 0.5 }, want: 'firing:3' },
    ],
  },
  { id: 'dust.vent_ruptured', steps: tag('vent_state', 'ruptured', 1, 'intact') },
  { id: 'dust.suppression_discharged', steps: tag('suppression_state', 'discharged', 1, 'ready') },
  { id: 'dust.isolation_valve_closed', steps: tag('isolation_valve_state', 'closed', 1, 'open') },
  { id: 'dust.suppression_fault', steps: tag('suppression_state', 'fault', 4, 'ready') },
  { id: 'dust.isolation_valve_fault', steps: tag('isolation_valve_state', 'fault', 4, 'open') },
  {
    id: 'dust.diff_pressure_zero',
    steps: [
      { s: 0, f: { fan_running: true, diff_pressure_pa: 900 }, want: 'clear' },
      { s: 10, f: { fan_running: true, diff_pressure_pa: 10 }, want: 'pending:3' },
      { s: 70, f: { fan_running: true, diff_pressure_pa: 5 }, want: 'firing:3' },
      { s: 80, f: { fan_running: false, diff_pressure_pa: 0 }, want: 'clear' },
    ],
  },
  { id: 'electrical_fire.arc_alarm', steps: flag('arc_alarm', 3) },
  { id: 'electrical_fire.sensor_fault', steps: flag('sensor_fault', 4) },
  {
    id: 'electrical_fire.cable_temp_rise',
    steps: [
      { s: 0, f: { temp_c_1: 30, temp_c_2: 31 }, want: '-' },
      { s: 60, f: { temp_c_1: 31, temp_c_2: 43 }, want: 'firing:3' },
      { s: 120, f: { temp_c_1: 31, temp_c_2: 44 }, want: 'clear' },
    ],
  },
  {
    id: 'smoke.alarm',
    steps: [
      { f: { alarm: true }, want: 'firing:2' },
      { f: { battery_pct: 90 }, want: '-' },
      { f: { alarm_cleared: true }, want: 'clear' },
    ],
  },
  { id: 'smoke.fault', steps: flag('fault', 4) },
  { id: 'smoke.battery_undervoltage', steps: flag('low_battery', 4) },
  { id: 'smoke.chamber_dirty', steps: flag('chamber_dirty', 4) },
  { id: 'smoke.tamper', steps: flag('tamper', 4) },
  { id: 'smoke.removed', steps: flag('removed', 4) },
  { id: 'smoke.self_test_fail', steps: tag('self_test', 'fail', 4, 'ok') },
];

describe('alert-rules default packs', () => {
  test.each(CASES)('$id fires on a synthetic history as its standard says', ({ id, steps }) => {
    const rule = RULES.byId.get(id);
    expect(rule, id).toBeDefined();
    if (!rule) return;
    const evaluator = EVALUATORS[rule.type];
    expect(evaluator, rule.type).toBeDefined();
    if (evaluator) expect(run(evaluator, rule, steps)).toEqual(wants(steps));
  });

  test('every shipped rule has a Simplified Chinese title', () => {
    for (const r of RULES.byId.values()) expect(r.title, r.id).toMatch(/[\u4e00-\u9fff]/);
  });
});
