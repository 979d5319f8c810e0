import { describe, expect, test } from 'vitest';
import { smokeKind } from '../../../src/kinds/smoke.js';
import { EXAMPLE_PAYLOADS } from '../../fixtures/payloads.js';
import { expectAccepted, expectRejected, type RejectCase } from './cases.js';

const VALID: { name: string; data: Record<string, unknown> }[] = [
  { name: 'the example payload', data: EXAMPLE_PAYLOADS.smoke.data },
  { name: 'a fire alarm event', data: { alarm: true, smoke_db_m: 0.42, interconnect_alarm: true } },
  { name: 'an alarm-cleared event', data: { alarm: false, alarm_cleared: true } },
  { name: 'a raw vendor smoke index', data: { smoke_index: 812 } },
  { name: 'a fault code', data: { fault: 4 } },
  { name: 'a removed, dirty alarm on low battery', data: { removed: true, tamper: true, chamber_dirty: true, low_battery: true, battery_v: 2.61 } },
];

const REJECTS: RejectCase[] = [
  { name: 'a raw index sent as dB/m', data: { smoke_db_m: 812 }, path: 'data.smoke_db_m', rule: 'too_big' },
  { name: 'a negative obscuration', data: { smoke_db_m: -0.1 }, path: 'data.smoke_db_m', rule: 'too_small' },
  { name: 'a NaN-like string', data: { smoke_db_m: 'NaN' }, path: 'data.smoke_db_m', rule: 'invalid_type' },
  { name: 'an index over 1000', data: { smoke_index: 1001 }, path: 'data.smoke_index', rule: 'too_big' },
  { name: 'a fault as a string', data: { fault: 'E04' }, path: 'data.fault', rule: 'invalid_union' },
  { name: 'battery millivolts sent as volts', data: { battery_v: 3000 }, path: 'data.battery_v', rule: 'too_big' },
  { name: 'a self-test state only gas detectors have', data: { self_test: 'running' }, path: 'data.self_test', rule: 'invalid_value' },
  { name: 'raw tenths of a temperature', data: { temperature_c: 250 }, path: 'data.temperature_c', rule: 'too_big' },
  { name: 'a cell id over 28 bits', data: { cell_id: 0x1000_0000 }, path: 'data.cell_id', rule: 'too_big' },
  { name: 'an alarm flag as a number', data: { alarm: 1 }, path: 'data.alarm', rule: 'invalid_type' },
  { name: 'an unknown key', data: { alarm: false, co_ppm: 3 }, path: 'data.co_ppm', rule: 'unrecognized_keys' },
  { name: 'empty data', data: {}, path: 'data', rule: 'empty_object' },
];

describe('kinds/smoke', () => {
  test.each(VALID)('accepts $name', ({ data }) => {
    expectAccepted(smokeKind, data);
  });

  test.each(REJECTS)('rejects $name at $path with $rule', (c) => {
    expectRejected(smokeKind, c);
  });

  test('stores a fault code as fault_code with a boolean fault', () => {
    expect(expectAccepted(smokeKind, { fault: 4 }).fields).toEqual({ fault: true, fault_code: 4 });
    expect(expectAccepted(smokeKind, { fault: 0 }).fields).toEqual({ fault: false, fault_code: 0 });
  });

  test('puts the self-test result and the IMEI in tags', () => {
    const { fields, tags } = expectAccepted(smokeKind, EXAMPLE_PAYLOADS.smoke.data);
    expect(tags).toEqual({ self_test: 'ok', imei: '869523051234567' });
    expect(fields).toMatchObject({ smoke_db_m: 0.02, alarm: false, battery_pct: 86 });
  });

  test('explains a union failure', () => {
    const message = expectRejected(smokeKind, REJECTS[4] as RejectCase);
    expect(message).toBe('data.fault: must be a boolean or a fault code (integer 0–65535), got "E04"');
  });
});
