import { describe, expect, test } from 'vitest';
import { MAX_BATCH_READINGS, parseDeviceTime, parseEnvelope } from '../../../src/kinds/envelope.js';

const DATA = { concentration_lel: 3.5 };

describe('kinds/envelope', () => {
  test.each([
    { input: '2025-03-15T14:30:05', iso: '2025-03-15T06:30:05.000Z', why: 'a zone-less device time is Beijing time' },
    { input: '2025-03-15 14:30:05', iso: '2025-03-15T06:30:05.000Z', why: 'a space separator is accepted' },
    { input: '2025-03-15T14:30:05.123', iso: '2025-03-15T06:30:05.123Z', why: 'a zone-less fraction is kept' },
    { input: '2025-03-15T14:30:05.123456', iso: '2025-03-15T06:30:05.123Z', why: 'a fraction is truncated to ms' },
    { input: '2025-03-15T06:30:05Z', iso: '2025-03-15T06:30:05.000Z', why: 'Z is UTC' },
    { input: '2025-03-15T14:30:05+08:00', iso: '2025-03-15T06:30:05.000Z', why: 'an explicit +08:00 is honoured' },
    { input: '2025-03-15T01:30:05-05:00', iso: '2025-03-15T06:30:05.000Z', why: 'a negative offset is honoured' },
    { input: '2025-03-15T14:30:05+0800', iso: '2025-03-15T06:30:05.000Z', why: 'a basic-format offset is honoured' },
    { input: '2025-03-15T00:10:00', iso: '2025-03-14T16:10:00.000Z', why: 'Beijing midnight falls on the previous UTC day' },
    { input: '2024-02-29T12:00:00Z', iso: '2024-02-29T12:00:00.000Z', why: 'a leap day is accepted' },
  ])('parses $input ($why)', ({ input, iso }) => {
    expect(parseDeviceTime(input)).toBe(Date.parse(iso));
  });

  test('refuses epoch milliseconds a Date cannot represent (they would crash toISOString later)', () => {
    expect(parseDeviceTime(8.64e15)).toBe(8.64e15);
    expect(parseDeviceTime(8.64e15 + 1)).toBeUndefined();
    expect(parseDeviceTime(2 ** 53 - 1)).toBeUndefined();
  });

  test('takes epoch milliseconds as they are', () => {
    expect(parseDeviceTime(1742020205000)).toBe(1742020205000);
    expect(parseDeviceTime(0)).toBe(0);
  });

  test.each([
    '2025-03-15',
    '14:30:05',
    '2025-03-15T14:30',
    '2025-13-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-04-31T00:00:00',
    '2025-03-15T24:00:00',
    '2025-03-15T14:60:00',
    '2025-03-15T14:30:05+25:00',
    '2025/03/15 14:30:05',
    ' 2025-03-15T14:30:05',
    'NaN',
    '1742020205000',
    '',
  ])('rejects the string %j', (input) => {
    expect(parseDeviceTime(input)).toBeUndefined();
  });

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])('rejects the number %d', (input) => {
    expect(parseDeviceTime(input)).toBeUndefined();
  });

  test('parses a single reading with ts, seq and data', () => {
    expect(parseEnvelope({ ts: '2025-03-15T14:30:05', seq: 7, data: DATA })).toEqual({
      ok: true,
      entries: [{ ts: Date.parse('2025-03-15T06:30:05Z'), seq: 7, data: DATA }],
      rejects: [],
    });
  });

  test('leaves seq out when the device sent none', () => {
    const result = parseEnvelope({ ts: 1742020205000, data: DATA });
    expect(result).toEqual({ ok: true, entries: [{ ts: 1742020205000, data: DATA }], rejects: [] });
    expect(result.ok && 'seq' in (result.entries[0] ?? {})).toBe(false);
  });

  test.each([
    { name: 'a payload that is not an object', json: [1], path: '', rule: 'invalid_type' },
    { name: 'null', json: null, path: '', rule: 'invalid_type' },
    { name: 'a missing ts', json: { data: DATA }, path: 'ts', rule: 'invalid_type' },
    { name: 'an unparseable ts', json: { ts: '15/03/2025 14:30', data: DATA }, path: 'ts', rule: 'invalid_timestamp' },
    { name: 'a boolean ts', json: { ts: true, data: DATA }, path: 'ts', rule: 'invalid_timestamp' },
    { name: 'epoch ms as a fraction', json: { ts: 1742020205000.5, data: DATA }, path: 'ts', rule: 'invalid_timestamp' },
    { name: 'a negative seq', json: { ts: 0, seq: -1, data: DATA }, path: 'seq', rule: 'too_small' },
    { name: 'a fractional seq', json: { ts: 0, seq: 1.5, data: DATA }, path: 'seq', rule: 'invalid_type' },
    { name: 'a string seq', json: { ts: 0, seq: '7', data: DATA }, path: 'seq', rule: 'invalid_type' },
    { name: 'missing data', json: { ts: 0, seq: 1 }, path: 'data', rule: 'invalid_type' },
    { name: 'data as an array', json: { ts: 0, data: [DATA] }, path: 'data', rule: 'invalid_type' },
    { name: 'an unknown top-level key', json: { ts: 0, data: DATA, device_id: 'x' }, path: 'device_id', rule: 'unrecognized_keys' },
    { name: 'readings that are not an array', json: { readings: DATA }, path: 'readings', rule: 'invalid_type' },
    { name: 'empty readings', json: { readings: [] }, path: 'readings', rule: 'too_small' },
    { name: 'readings mixed with a single reading', json: { readings: [{ ts: 0, data: DATA }], ts: 0 }, path: 'ts', rule: 'unrecognized_keys' },
  ])('rejects $name at $path with $rule', ({ json, path, rule }) => {
    const result = parseEnvelope(json);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect([result.error.path, result.error.rule]).toEqual([path, rule]);
    expect(result.error.message.startsWith(path === '' ? 'payload: ' : `${path}: `)).toBe(true);
  });

  test(`rejects more than ${MAX_BATCH_READINGS} readings as a whole`, () => {
    const readings = Array.from({ length: MAX_BATCH_READINGS + 1 }, (_, i) => ({ ts: i, data: DATA }));
    const result = parseEnvelope({ readings });
    expect(result.ok ? null : [result.error.path, result.error.rule]).toEqual(['readings', 'too_big']);
    expect(parseEnvelope({ readings: readings.slice(1) }).ok).toBe(true);
  });

  test('keeps the good entries of a batch and rejects each bad one at its own index', () => {
    const result = parseEnvelope({
      readings: [
        { ts: '2025-03-15T14:30:05', seq: 1, data: DATA },
        { ts: 'yesterday', seq: 2, data: DATA },
        'not a reading',
        { ts: '2025-03-15T14:30:15', seq: -3, data: DATA },
        { ts: '2025-03-15T14:30:20', data: DATA, extra: true },
        { ts: '2025-03-15T14:30:25' },
        { ts: '2025-03-15T14:30:30', seq: 6, data: DATA },
      ],
    });
    expect(result).toEqual({
      ok: true,
      entries: [
        { ts: Date.parse('2025-03-15T06:30:05Z'), seq: 1, data: DATA, index: 0 },
        { ts: Date.parse('2025-03-15T06:30:30Z'), seq: 6, data: DATA, index: 6 },
      ],
      rejects: [
        expect.objectContaining({ path: 'readings[1].ts', rule: 'invalid_timestamp' }),
        expect.objectContaining({ path: 'readings[2]', rule: 'invalid_type' }),
        expect.objectContaining({ path: 'readings[3].seq', rule: 'too_small' }),
        expect.objectContaining({ path: 'readings[4].extra', rule: 'unrecognized_keys' }),
        expect.objectContaining({ path: 'readings[5].data', rule: 'invalid_type' }),
      ],
    });
  });

  test('reports one reject per bad entry, the first problem found', () => {
    const result = parseEnvelope({ readings: [{ ts: 'bad', seq: -1 }] });
    expect(result).toEqual({
      ok: true,
      entries: [],
      rejects: [
        {
          path: 'readings[0].ts',
          rule: 'invalid_timestamp',
          message: 'readings[0].ts: must be an ISO-8601 time (zone-less = Beijing time) or epoch ms, got "bad"',
        },
      ],
    });
  });

  test('does not apply the accepted time window', () => {
    const result = parseEnvelope({ ts: '1999-12-31T23:59:59Z', data: DATA });
    expect(result.ok && result.entries[0]?.ts).toBe(Date.parse('1999-12-31T23:59:59Z'));
  });
});
