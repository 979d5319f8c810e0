import { describe, expect, test } from 'vitest';
import { electricalFireKind } from '../../../src/kinds/electrical-fire.js';
import { gasKind } from '../../../src/kinds/gas.js';
import { formatPath, splitScalars, validateData } from '../../../src/kinds/validate.js';

describe('kinds/validate', () => {
  test('returns fields and tags, and no errors, for valid data', () => {
    expect(validateData(gasKind, { concentration_lel: 12.5, gas_type: 'CH4' }, 'data')).toEqual({
      ok: true,
      fields: { concentration_lel: 12.5 },
      tags: { gas_type: 'CH4' },
    });
  });

  test('prefixes every path with the position of data in the payload', () => {
    const result = validateData(electricalFireKind, { temp_c: [40, 41, 650] }, 'readings[3].data');
    expect(result).toEqual({
      ok: false,
      errors: [{ path: 'readings[3].data.temp_c[2]', rule: 'too_big', message: 'readings[3].data.temp_c[2]: must be ≤ 400 (°C), got 650' }],
    });
  });

  test('reports every violation, one per unknown key', () => {
    const result = validateData(gasKind, { concentration_lel: 150, valve_state: 'half', foo: 1, bar: 2 }, 'data');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => `${e.path} ${e.rule}`).sort()).toEqual([
      'data.bar unrecognized_keys',
      'data.concentration_lel too_big',
      'data.foo unrecognized_keys',
      'data.valve_state invalid_value',
    ]);
  });

  test.each([
    { data: { concentration_lel: -1 }, message: 'data.concentration_lel: must be ≥ 0 (%LEL), got -1' },
    { data: { concentration_lel: 'NaN' }, message: 'data.concentration_lel: must be a number, got "NaN"' },
    { data: { battery_pct: 50.5 }, message: 'data.battery_pct: must be an integer, got 50.5' },
    { data: { valve_state: 'half' }, message: 'data.valve_state: must be one of open, closed, fault, got "half"' },
    { data: { imei: '123' }, message: 'data.imei: must be a 15–16 digit IMEI, got "123"' },
    { data: { sensor_fault: null }, message: 'data.sensor_fault: must be a boolean, got null' },
    { data: {}, message: 'data: must contain at least one field' },
    { data: 'concentration=5', message: 'data: must be an object, got "concentration=5"' },
  ])('explains $message', ({ data, message }) => {
    const result = validateData(gasKind, data, 'data');
    expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual([message]);
  });

  test('words array bounds in items', () => {
    const result = validateData(electricalFireKind, { temp_c: [1, 2, 3, 4, 5] }, 'data');
    expect(result.ok ? [] : result.errors.map((e) => e.message)).toEqual(['data.temp_c: must have at most 4 items, got an array of 5']);
  });

  test('splits scalars into fields and tags and skips absent values', () => {
    expect(splitScalars({ a: 1, b: true, c: 'x', d: undefined, e: [1], f: { a: 1 } })).toEqual({
      fields: { a: 1, b: true },
      tags: { c: 'x' },
    });
  });

  test('formats paths with dots for keys and brackets for indices', () => {
    expect(formatPath('data', ['temp_c', 2])).toBe('data.temp_c[2]');
    expect(formatPath('readings[1].data', ['current_a', 'b'])).toBe('readings[1].data.current_a.b');
    expect(formatPath('data', [])).toBe('data');
    expect(formatPath('', ['ts'])).toBe('ts');
  });
});
