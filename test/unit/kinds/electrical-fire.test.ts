import { describe, expect, test } from 'vitest';
import { electricalFireKind } from '../../../src/kinds/electrical-fire.js';
import { EXAMPLE_PAYLOADS } from '../../fixtures/payloads.js';
import { expectAccepted, expectRejected, type RejectCase } from './cases.js';

const VALID: { name: string; data: Record<string, unknown> }[] = [
  { name: 'the example payload', data: EXAMPLE_PAYLOADS.electrical_fire.data },
  { name: 'a residual-current-only detector', data: { residual_current_ma: 0 } },
  { name: 'the top of the meter range', data: { residual_current_ma: 2000 } },
  { name: 'one temperature channel', data: { temp_c: [55.3] } },
  { name: 'a single-phase circuit', data: { current_a: { a: 16.2 }, voltage_v: { a: 221 } } },
  { name: 'a fault arc', data: { arc_halfcycles_1s: 18, arc_alarm: true } },
  { name: 'energy-meter extras with reverse flow', data: { power_kw: -12.5, pf: -0.93, energy_kwh: 152_334.2 } },
];

const REJECTS: RejectCase[] = [
  { name: 'residual current over 2000 mA', data: { residual_current_ma: 2500 }, path: 'data.residual_current_ma', rule: 'too_big' },
  { name: 'a negative residual current', data: { residual_current_ma: -1 }, path: 'data.residual_current_ma', rule: 'too_small' },
  { name: 'a fractional residual current', data: { residual_current_ma: 186.5 }, path: 'data.residual_current_ma', rule: 'invalid_type' },
  { name: 'five temperature channels', data: { temp_c: [40, 41, 42, 43, 44] }, path: 'data.temp_c', rule: 'too_big' },
  { name: 'no temperature channels', data: { temp_c: [] }, path: 'data.temp_c', rule: 'too_small' },
  { name: 'a channel over 400 °C', data: { temp_c: [40, 41, 650] }, path: 'data.temp_c[2]', rule: 'too_big' },
  { name: 'a NaN-like channel', data: { temp_c: [40, 'NaN'] }, path: 'data.temp_c[1]', rule: 'invalid_type' },
  { name: 'a null channel', data: { temp_c: [40, null] }, path: 'data.temp_c[1]', rule: 'invalid_type' },
  { name: 'a temperature that is not an array', data: { temp_c: 45 }, path: 'data.temp_c', rule: 'invalid_type' },
  { name: 'a voltage in the current field (swap)', data: { current_a: { a: 230 }, voltage_v: { a: 9800 } }, path: 'data.voltage_v.a', rule: 'too_big' },
  { name: 'a negative phase current', data: { current_a: { b: -3 } }, path: 'data.current_a.b', rule: 'too_small' },
  { name: 'a phase current over 6300 A', data: { current_a: { c: 7000 } }, path: 'data.current_a.c', rule: 'too_big' },
  { name: 'an unknown phase', data: { current_a: { a: 10, n: 2 } }, path: 'data.current_a.n', rule: 'unrecognized_keys' },
  { name: 'upper-case phases', data: { voltage_v: { A: 220 } }, path: 'data.voltage_v.A', rule: 'unrecognized_keys' },
  { name: 'an empty phase object', data: { current_a: {} }, path: 'data.current_a', rule: 'empty_object' },
  { name: 'phases as an array', data: { voltage_v: [220, 221, 219] }, path: 'data.voltage_v', rule: 'invalid_type' },
  { name: 'more arc half-cycles than a second holds', data: { arc_halfcycles_1s: 200 }, path: 'data.arc_halfcycles_1s', rule: 'too_big' },
  { name: 'a power factor over 1', data: { pf: 1.2 }, path: 'data.pf', rule: 'too_big' },
  { name: 'a flattened name on the wire', data: { temp_c_1: 40 }, path: 'data.temp_c_1', rule: 'unrecognized_keys' },
  { name: 'empty data', data: {}, path: 'data', rule: 'empty_object' },
];

describe('kinds/electrical-fire', () => {
  test.each(VALID)('accepts $name', ({ data }) => {
    expectAccepted(electricalFireKind, data);
  });

  test.each(REJECTS)('rejects $name at $path with $rule', (c) => {
    expectRejected(electricalFireKind, c);
  });

  test('flattens temperature channels and phases into numbered and lettered fields', () => {
    const { fields, tags } = expectAccepted(electricalFireKind, EXAMPLE_PAYLOADS.electrical_fire.data);
    expect(fields).toEqual({
      residual_current_ma: 186,
      residual_set_ma: 300,
      temp_c_1: 42.1,
      temp_c_2: 39.8,
      temp_c_3: 44.6,
      temp_c_4: 40.2,
      temp_set_c: 70,
      current_a_a: 112.4,
      current_a_b: 98.7,
      current_a_c: 105.2,
      voltage_v_a: 229.6,
      voltage_v_b: 231.2,
      voltage_v_c: 228.9,
      arc_halfcycles_1s: 0,
      arc_alarm: false,
      sensor_fault: false,
      trip_output: false,
    });
    expect(tags).toEqual({});
  });

  test('emits only the channels and phases that were sent', () => {
    const { fields } = expectAccepted(electricalFireKind, { temp_c: [50, 51], current_a: { b: 7.5 } });
    expect(fields).toEqual({ temp_c_1: 50, temp_c_2: 51, current_a_b: 7.5 });
    expect(Object.values(fields)).not.toContain(undefined);
  });

  test('reports a channel by index with the channel unit', () => {
    const message = expectRejected(electricalFireKind, { name: '', data: { temp_c: [40, 41, 650] }, path: 'data.temp_c[2]', rule: 'too_big' });
    expect(message).toBe('data.temp_c[2]: must be ≤ 400 (°C), got 650');
  });

  test('has a label for every flattened field', () => {
    for (const name of ['temp_c_4', 'current_a_c', 'voltage_v_b']) expect(electricalFireKind.fields[name]?.labelZh).toBeTruthy();
    expect(electricalFireKind.fields.voltage_v_a).toEqual({ unit: 'V', labelZh: '相电压(A相)' });
  });
});
