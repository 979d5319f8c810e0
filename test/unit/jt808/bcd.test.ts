import { describe, expect, test } from 'vitest';
import { decodeBcd, decodeBcdTime, encodeBcd, encodeBcdTime, Jt808EncodeError, normalizePhone } from '../../../src/ingest/jt808/index.js';
import { bj, hex } from './frames.js';

describe('ingest/jt808/codec/bcd', () => {
  test.each([
    { bcd: '240315023510', at: bj(2024, 3, 15, 2, 35, 10) },
    { bcd: '000101000000', at: bj(2000, 1, 1, 0, 0, 0) },
    { bcd: '991231235959', at: bj(2099, 12, 31, 23, 59, 59) },
    { bcd: '240229120000', at: bj(2024, 2, 29, 12, 0, 0) },
  ])('BCD time $bcd is Beijing time, and encodes back', ({ bcd, at }) => {
    expect(decodeBcdTime(hex(bcd), 'time')).toBe(at);
    expect(encodeBcdTime(at, 'time').toString('hex')).toBe(bcd);
  });

  test('2024-03-15 02:35:10 GMT+8 is 2024-03-14T18:35:10Z', () => {
    expect(new Date(decodeBcdTime(hex('240315023510'), 'time')).toISOString()).toBe('2024-03-14T18:35:10.000Z');
  });

  test('encoding drops milliseconds and refuses years BCD YY cannot hold', () => {
    expect(encodeBcdTime(bj(2024, 3, 15, 2, 35, 10) + 999, 't').toString('hex')).toBe('240315023510');
    expect(() => encodeBcdTime(bj(1999, 12, 31, 23, 59, 59), 't')).toThrow(Jt808EncodeError);
    expect(() => encodeBcdTime(bj(2100, 1, 1, 0, 0, 0), 't')).toThrow(/year 2100/);
  });

  test('phones are left-padded on the wire and normalized without leading zeros', () => {
    expect(encodeBcd('13912345678', 6, 'phone').toString('hex')).toBe('013912345678');
    expect(encodeBcd('13912345678', 10, 'phone').toString('hex')).toBe('00000000013912345678');
    expect(decodeBcd(hex('00000000013912345678'), 'phone')).toBe('00000000013912345678');
    expect(normalizePhone('00000000013912345678')).toBe('13912345678');
    expect(normalizePhone('013912345678')).toBe('13912345678');
    expect(normalizePhone('000000000000')).toBe('0');
    expect(() => encodeBcd('1'.repeat(13), 6, 'phone')).toThrow(/13 digits, the field holds 12/);
    expect(() => encodeBcd('1391234567x', 6, 'phone')).toThrow(/decimal digits/);
  });
});
