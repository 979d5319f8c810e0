import { describe, expect, test } from 'vitest';
import { dustKind } from '../../../src/kinds/dust.js';
import { EXAMPLE_PAYLOADS } from '../../fixtures/payloads.js';
import { expectAccepted, expectRejected, type RejectCase } from './cases.js';

const VALID: { name: string; data: Record<string, unknown> }[] = [
  { name: 'the example payload (dry collector)', data: EXAMPLE_PAYLOADS.dust.data },
  { name: 'a wet collector', data: { water_level_m: 0.85, water_flow: 42.5, water_pressure_mpa: 0.25, h2_conc_lel: 3.2, fan_running: true } },
  { name: 'an inlet over the 70 °C alarm point', data: { inlet_temp_c: 72.4, isolation_valve_state: 'closed' } },
  { name: 'a winter reading below zero', data: { hopper_temp_c: -18.5 } },
  { name: 'an explosion event', data: { vent_state: 'ruptured', suppression_state: 'discharged', spark_extinguish_fired: true } },
  { name: 'a spark count', data: { spark_detected: 3 } },
  { name: 'a dust concentration', data: { dust_conc_mgm3: 12.7 } },
];

const REJECTS: RejectCase[] = [
  { name: 'a hopper temperature over 400 °C', data: { hopper_temp_c: 700 }, path: 'data.hopper_temp_c', rule: 'too_big' },
  { name: 'a temperature below −40 °C', data: { inlet_temp_c: -999 }, path: 'data.inlet_temp_c', rule: 'too_small' },
  { name: 'a fractional pressure difference', data: { diff_pressure_pa: 812.5 }, path: 'data.diff_pressure_pa', rule: 'invalid_type' },
  { name: 'a pressure beyond ±20 kPa', data: { outlet_pressure_pa: -65535 }, path: 'data.outlet_pressure_pa', rule: 'too_small' },
  { name: 'a NaN-like string', data: { water_level_m: 'nan' }, path: 'data.water_level_m', rule: 'invalid_type' },
  { name: 'millimetres of water sent as metres', data: { water_level_m: 850 }, path: 'data.water_level_m', rule: 'too_big' },
  { name: 'kPa sent as MPa', data: { water_pressure_mpa: 250 }, path: 'data.water_pressure_mpa', rule: 'too_big' },
  { name: 'H₂ over 100 %LEL', data: { h2_conc_lel: 120 }, path: 'data.h2_conc_lel', rule: 'too_big' },
  { name: 'a negative spark count', data: { spark_detected: -1 }, path: 'data.spark_detected', rule: 'too_small' },
  { name: 'a string spark flag', data: { spark_detected: 'yes' }, path: 'data.spark_detected', rule: 'invalid_union' },
  { name: 'a vent state not in the list', data: { vent_state: 'open' }, path: 'data.vent_state', rule: 'invalid_value' },
  { name: 'a suppression state not in the list', data: { suppression_state: 'armed' }, path: 'data.suppression_state', rule: 'invalid_value' },
  { name: 'a boolean as a string', data: { fan_running: 'true' }, path: 'data.fan_running', rule: 'invalid_type' },
  { name: 'an unknown key', data: { fan_running: true, fan_speed_rpm: 1450 }, path: 'data.fan_speed_rpm', rule: 'unrecognized_keys' },
  { name: 'empty data', data: {}, path: 'data', rule: 'empty_object' },
  { name: 'null data', data: null, path: 'data', rule: 'invalid_type' },
];

describe('kinds/dust', () => {
  test.each(VALID)('accepts $name', ({ data }) => {
    expectAccepted(dustKind, data);
  });

  test.each(REJECTS)('rejects $name at $path with $rule', (c) => {
    expectRejected(dustKind, c);
  });

  test('stores a spark count as spark_count with a boolean spark_detected', () => {
    expect(expectAccepted(dustKind, { spark_detected: 3 }).fields).toEqual({ spark_detected: true, spark_count: 3 });
    expect(expectAccepted(dustKind, { spark_detected: 0 }).fields).toEqual({ spark_detected: false, spark_count: 0 });
    expect(expectAccepted(dustKind, { spark_detected: true }).fields).toEqual({ spark_detected: true });
  });

  test('puts device states in tags', () => {
    const { fields, tags } = expectAccepted(dustKind, EXAMPLE_PAYLOADS.dust.data);
    expect(tags).toEqual({ isolation_valve_state: 'open', vent_state: 'intact' });
    expect(fields).toMatchObject({ hopper_temp_c: 38.2, diff_pressure_pa: 1180, unloader_fault: false });
  });

  test('quotes the unit in a range message', () => {
    const message = expectRejected(dustKind, REJECTS[0] as RejectCase);
    expect(message).toBe('data.hopper_temp_c: must be ≤ 400 (°C), got 700');
  });
});
