import { describe, expect, test } from 'vitest';
import { parseDurationMs } from '../../../src/lib/duration.js';

const VALID: { input: string | number; ms: number }[] = [
  { input: '500ms', ms: 500 },
  { input: '30s', ms: 30_000 },
  { input: '5m', ms: 300_000 },
  { input: '1h', ms: 3_600_000 },
  { input: '1.5h', ms: 5_400_000 },
  { input: '7d', ms: 604_800_000 },
  { input: '0s', ms: 0 },
  { input: '0.25s', ms: 250 },
  { input: '0.0004s', ms: 0 },
  { input: ' 10s ', ms: 10_000 },
  { input: 0, ms: 0 },
  { input: 1500, ms: 1500 },
];

const INVALID: (string | number)[] = ['10x', '', 's', '10', '-5s', '5 s', '10S', '1.5.2s', '1e3ms', '.5s', '5m30s', -1, Number.NaN, Number.POSITIVE_INFINITY];

describe('lib/duration', () => {
  test.each(VALID)('parses $input as $ms ms', ({ input, ms }) => {
    expect(parseDurationMs(input)).toBe(ms);
  });

  test.each(INVALID.map((input) => ({ input })))('rejects $input', ({ input }) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });
});
