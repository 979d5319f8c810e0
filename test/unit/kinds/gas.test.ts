import { describe, expect, test } from 'vitest';
import { gasKind } from '../../../src/kinds/gas.js';
import { EXAMPLE_PAYLOADS } from '../../fixtures/payloads.js';
import { expectAccepted, expectRejected, type RejectCase } from './cases.js';

const VALID: { name: string; data: Record<string, unknown> }[] = [
  { name: 'the example payload', data: EXAMPLE_PAYLOADS.gas.data },
  { name: 'a heartbeat with only a concentration', data: { concentration_lel: 0 } },
  { name: 'the top of the %LEL range', data: { concentration_lel: 100 } },
  { name: 'CO in ppm with a household detector state', data: { gas_type: 'CO', concentration_ppm: 180, sensor_eol: false, muted: true } },
  { name: 'oxygen in %VOL', data: { gas_type: 'O2', concentration_vol: 20.9 } },
  { name: 'a battery model with radio metrics', data: { battery_pct: 63, battery_v: 3.4, rsrp_dbm: -140, snr_db: -5, ecl: 2, csq: 99 } },
  { name: 'identifiers', data: { iccid: '89860117851014783481', fw_version: 'V2.1.3_20240105' } },
];

const REJECTS: RejectCase[] = [
  { name: 'over 100 %LEL', data: { concentration_lel: 150 }, path: 'data.concentration_lel', rule: 'too_big' },
  { name: 'a negative concentration', data: { concentration_lel: -0.5 }, path: 'data.concentration_lel', rule: 'too_small' },
  { name: 'a NaN-like string', data: { concentration_lel: 'NaN' }, path: 'data.concentration_lel', rule: 'invalid_type' },
  { name: 'a numeric string', data: { concentration_lel: '12.5' }, path: 'data.concentration_lel', rule: 'invalid_type' },
  { name: 'null for a number', data: { concentration_lel: null }, path: 'data.concentration_lel', rule: 'invalid_type' },
  { name: 'a fractional ppm', data: { concentration_ppm: 12.5 }, path: 'data.concentration_ppm', rule: 'invalid_type' },
  { name: 'a gas type not in the list', data: { gas_type: 'methane' }, path: 'data.gas_type', rule: 'invalid_value' },
  { name: 'a lower-case gas type', data: { gas_type: 'ch4' }, path: 'data.gas_type', rule: 'invalid_value' },
  { name: 'a valve state not in the list', data: { valve_state: 'half' }, path: 'data.valve_state', rule: 'invalid_value' },
  { name: 'alarm level 3', data: { alarm_level: 3 }, path: 'data.alarm_level', rule: 'invalid_value' },
  { name: 'a boolean as a number', data: { sensor_fault: 1 }, path: 'data.sensor_fault', rule: 'invalid_type' },
  { name: 'battery over 100 %', data: { battery_pct: 101 }, path: 'data.battery_pct', rule: 'too_big' },
  { name: 'a fractional battery percentage', data: { battery_pct: 50.5 }, path: 'data.battery_pct', rule: 'invalid_type' },
  { name: 'battery millivolts sent as volts', data: { battery_v: 3600 }, path: 'data.battery_v', rule: 'too_big' },
  { name: 'RSRP above −44 dBm', data: { rsrp_dbm: -20 }, path: 'data.rsrp_dbm', rule: 'too_big' },
  { name: 'RSRP below −140 dBm', data: { rsrp_dbm: -141 }, path: 'data.rsrp_dbm', rule: 'too_small' },
  { name: 'ECL 3', data: { ecl: 3 }, path: 'data.ecl', rule: 'too_big' },
  { name: 'CSQ 50', data: { csq: 50 }, path: 'data.csq', rule: 'invalid_value' },
  { name: 'a short IMEI', data: { imei: '86123456' }, path: 'data.imei', rule: 'invalid_format' },
  { name: 'an unknown key', data: { concentration_lel: 5, concentration: 5 }, path: 'data.concentration', rule: 'unrecognized_keys' },
  { name: 'empty data', data: {}, path: 'data', rule: 'empty_object' },
  { name: 'data that is an array', data: [1, 2], path: 'data', rule: 'invalid_type' },
];

describe('kinds/gas', () => {
  test.each(VALID)('accepts $name', ({ data }) => {
    expectAccepted(gasKind, data);
  });

  test.each(REJECTS)('rejects $name at $path with $rule', (c) => {
    expectRejected(gasKind, c);
  });

  test('names the field, the limit with its unit, and the value in the message', () => {
    const message = expectRejected(gasKind, REJECTS[0] as RejectCase);
    expect(message).toBe('data.concentration_lel: must be ≤ 100 (%LEL), got 150');
  });

  test('an unknown key is reported alone, not also as empty data', () => {
    const result = expectRejected(gasKind, { name: 'unknown only', data: { foo: 1 }, path: 'data.foo', rule: 'unrecognized_keys' });
    expect(result).toBe('data.foo: unknown field for kind gas');
  });

  test('puts numbers and booleans in fields and enums and identifiers in tags', () => {
    const { fields, tags } = expectAccepted(gasKind, EXAMPLE_PAYLOADS.gas.data);
    expect(fields).toMatchObject({ concentration_lel: 27.5, alarm_level: 1, sensor_fault: false, rsrp_dbm: -92 });
    expect(tags).toEqual({ gas_type: 'CH4', valve_state: 'closed', fan_state: 'on', power_source: 'mains', imei: '861234567890123' });
    expect(Object.values(fields).every((v) => typeof v === 'number' || typeof v === 'boolean')).toBe(true);
  });

  test('labels concentration_lel as 气体浓度 in %LEL', () => {
    expect(gasKind.labelZh).toBe('燃气泄漏报警');
    expect(gasKind.fields.concentration_lel).toEqual({ unit: '%LEL', labelZh: '气体浓度' });
  });
});
