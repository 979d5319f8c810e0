import { describe, expect, test } from 'vitest';
import { evaluate, resolveSpec, type FieldSpec } from '../../../src/sim/field-spec.js';
import { beijingHour, prng, shiftLevel, signalValue, SIGNAL_SCHEMA } from '../../../src/sim/signal.js';

const at = (hourBeijing: number, minute = 0): number => Date.UTC(2025, 2, 15, hourBeijing - 8, minute);

describe('sim/signal', () => {
  test('Beijing hour is UTC + 8 all year', () => {
    expect(beijingHour(Date.UTC(2025, 6, 1, 16, 30))).toBeCloseTo(0.5, 9);
  });

  test('a shift is 0 outside its hours, 1 inside, with linear ramps, and may wrap past midnight', () => {
    expect(shiftLevel(7, [8, 20], 30)).toBe(0);
    expect(shiftLevel(8.25, [8, 20], 30)).toBeCloseTo(0.5, 9);
    expect(shiftLevel(12, [8, 20], 30)).toBe(1);
    expect(shiftLevel(19.75, [8, 20], 30)).toBeCloseTo(0.5, 9);
    expect(shiftLevel(21, [8, 20], 30)).toBe(0);
    expect(shiftLevel(23, [17, 2], 0)).toBe(1);
    expect(shiftLevel(3, [17, 2], 0)).toBe(0);
  });

  test('a shift-shaped daily pattern raises the value in working hours (dust collector ΔP)', () => {
    const s = SIGNAL_SCHEMA.parse({ base: 20, decimals: 0, daily: { shape: 'shift', hours: [8, 20], amplitude: 1000, ramp_min: 2 } });
    const r = prng(1);
    expect(signalValue(s, 0, at(3), r)).toBe(20);
    expect(signalValue(s, 0, at(12), r)).toBe(1020);
  });

  test('the plain-number daily form is the original sine peaking at 14:00', () => {
    const s = SIGNAL_SCHEMA.parse({ base: 10, daily: 5 });
    expect(signalValue(s, 0, at(14), prng(1))).toBe(15);
    expect(signalValue(s, 0, at(2), prng(1))).toBe(5);
  });

  test('a walking signal wanders slowly with the same spread as white noise', () => {
    const white = SIGNAL_SCHEMA.parse({ base: 0, noise: 1, decimals: 4 });
    const walk = SIGNAL_SCHEMA.parse({ base: 0, noise: 1, walk: 0.9, decimals: 4 });
    const series = (s: typeof white): number[] => {
      const r = prng(7);
      const state = {};
      return Array.from({ length: 5000 }, (_, i) => signalValue(s, i, at(12), r, state));
    };
    const sd = (xs: number[]): number => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);
    const step = (xs: number[]): number => sd(xs.slice(1).map((x, i) => x - (xs[i] as number)));
    const [w, v] = [series(white), series(walk)];
    expect(sd(v)).toBeGreaterThan(0.8 * sd(w));
    expect(sd(v)).toBeLessThan(1.2 * sd(w));
    expect(step(v)).toBeLessThan(0.6 * step(w));
  });

  test('a range draws one nominal level per device; a shift value follows the hours; -0 never appears', () => {
    const spec = { range: [10, 20], noise: 0, decimals: 1, daily: 0, walk: 0 } as unknown as FieldSpec;
    const levels = new Set(Array.from({ length: 20 }, (_, i) => evaluate(resolveSpec(spec, prng(i)), 0, at(12), prng(0))));
    expect(levels.size).toBeGreaterThan(15);
    for (const l of levels) expect(l as number).toBeGreaterThanOrEqual(10);
    const fan = resolveSpec({ shift: [8, 20], on: 'on', off: 'off' }, prng(1));
    expect(evaluate(fan, 0, at(9), prng(1))).toBe('on');
    expect(evaluate(fan, 0, at(22), prng(1))).toBe('off');
    expect(Object.is(signalValue(SIGNAL_SCHEMA.parse({ base: -0.001, decimals: 1 }), 0, 0, prng(1)), -0)).toBe(false);
  });
});
