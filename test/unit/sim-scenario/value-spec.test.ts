import { describe, expect, test } from 'vitest';
import { curveAt, parseOffsetMs, valueAt, VALUE_SPEC, type ValueSpec } from '../../../src/sim/scenario/value-spec.js';

const spec = (v: unknown): ValueSpec => VALUE_SPEC.parse(v);
const fixed = (r: number) => () => r;

describe('sim/scenario value-spec', () => {
  test.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['8h20m', 30_000_000],
    ['4h7m30s', 14_850_000],
    ['250ms', 250],
    [1500, 1500],
  ])('offset %s is %d ms', (text, ms) => {
    expect(parseOffsetMs(text)).toBe(ms);
  });

  test.each(['', '5', '5 m', '1h 30m', 'm5', '-5m', '5x', '1h30'])('offset %j is refused', (text) => {
    expect(parseOffsetMs(text)).toBeUndefined();
  });

  test('a curve is linear between its points and flat beyond them', () => {
    const points: [number, number][] = [
      [60_000, 10],
      [120_000, 40],
    ];
    expect([0, 60_000, 90_000, 120_000, 999_999].map((t) => curveAt(points, t))).toEqual([10, 10, 25, 40, 40]);
  });

  test('noise stays within ±noise, then min/max clamp and decimals round', () => {
    const s = spec({ points: [[0, 50]], noise: 2, decimals: 1, min: 0, max: 51 });
    expect(valueAt(s, 0, fixed(0), 'x')).toBe(48);
    expect(valueAt(s, 0, fixed(0.5), 'x')).toBe(50);
    expect(valueAt(s, 0, fixed(1 - Number.EPSILON), 'x')).toBe(51); // 52 clamped to max
    expect(valueAt(spec({ points: [[0, 0.04]], noise: 1, decimals: 0, min: 0 }), 0, fixed(0), 'x')).toBe(0);
  });

  test('a step function holds the last step at or before the offset, the first one before it', () => {
    const s = spec({ steps: [['1m', 'open'], ['5m', 'closed']] });
    expect([0, 60_000, 299_999, 300_000, 10_000_000].map((t) => valueAt(s, t, fixed(0), 'v'))).toEqual(['open', 'open', 'open', 'closed', 'closed']);
  });

  test('arrays and objects build compound fields, each element with its own noise stream', () => {
    const asked: string[] = [];
    const s = spec({ temp: [{ points: [[0, 40]], noise: 1 }, 39], current: { a: { steps: [[0, 10]] }, b: 12.5 } });
    const v = valueAt(s, 0, (path) => (asked.push(path), 0.5), 'data');
    expect(v).toEqual({ temp: [40, 39], current: { a: 10, b: 12.5 } });
    expect(asked).toEqual(['data.temp[0]']);
  });

  test('a bad spec is reported at its own path', () => {
    const r = VALUE_SPEC.safeParse({ points: [['5m', 1], ['2m', 3]], noise: -1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['noise', expect.stringContaining('>=0')],
      ['points.1.0', 'offsets must increase strictly'],
    ]);
    expect(VALUE_SPEC.safeParse({ steps: [['soon', true]] }).error?.issues[0]?.path).toEqual(['steps', 0, 0]);
  });
});
