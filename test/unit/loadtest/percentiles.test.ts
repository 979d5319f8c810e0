import { describe, expect, test } from 'vitest';
import { percentile, summarize } from '../../../src/loadtest/percentiles.js';

describe('percentiles', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  test.each([
    [50, 5],
    [90, 9],
    [95, 10],
    [99, 10],
    [100, 10],
    [0, 1],
    [10, 1],
    [11, 2],
  ])('the nearest-rank p%d of 1…10 is %d', (p, want) => {
    expect(percentile(ten, p)).toBe(want);
  });

  test('a percentile is always one of the observations, never an interpolation', () => {
    const values = [0.5, 12, 40];
    for (const p of [1, 33, 34, 50, 66, 67, 99]) expect(values).toContain(percentile(values, p));
  });

  test('an empty list has no percentile, and a p outside 0–100 is refused', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile(ten, 101)).toThrow(RangeError);
    expect(() => percentile(ten, Number.NaN)).toThrow(RangeError);
  });

  test('summarize sorts a copy and reports count, p50, p95, p99, max and mean', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i); // 200 … 1, unsorted on purpose
    const s = summarize(values);
    expect(s).toEqual({ count: 200, p50: 100, p95: 190, p99: 198, max: 200, mean: 100.5 });
    expect(values[0]).toBe(200);
  });

  test('summarize of nothing is all null', () => {
    expect(summarize([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null, mean: null });
  });
});
