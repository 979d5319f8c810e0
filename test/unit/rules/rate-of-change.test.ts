import { describe, expect, test } from 'vitest';
import { rateOfChangeEvaluator as ev, type RateOfChangeRule, type RateOfChangeState } from '../../../src/rules/evaluators/rate-of-change.js';
import type { EvalResult } from '../../../src/rules/types.js';
import { buildRule, run, wants, type Step } from './harness.js';

const rule = (yaml: Record<string, unknown>): RateOfChangeRule => buildRule(ev, yaml, 'electrical_fire');

// Cable temperature rising faster than 10 °C/min over 1 min (the shipped electrical_fire.cable_temp_rise).
const RISE = { field: 'x', rise_per_min: 10, window: '1m', level: 3 };

/** Readings every `every` s from `from` s, value = f(s). */
const ramp = (from: number, to: number, every: number, f: (s: number) => number, want: (s: number) => string): Step[] => {
  const out: Step[] = [];
  for (let s = from; s <= to; s += every) out.push({ s, f: { x: f(s) }, want: want(s) });
  return out;
};

const CASES: { name: string; rule: Record<string, unknown>; steps: Step[] }[] = [
  {
    name: 'says nothing until a sample a window old exists, then fires on a rise faster than the limit',
    rule: RISE,
    // +2 °C every 10 s = 12 °C/min.
    steps: ramp(0, 90, 10, (s) => 20 + s / 5, (s) => (s < 60 ? '-' : 'firing:3')),
  },
  {
    name: 'a rise of exactly the limit does not fire; steeper fires; flattening clears',
    rule: RISE,
    steps: [
      { s: 0, f: { x: 20 }, want: '-' },
      { s: 30, f: { x: 25 }, want: '-' },
      { s: 60, f: { x: 30 }, want: 'clear' },
      { s: 90, f: { x: 40 }, want: 'firing:3' },
      { s: 120, f: { x: 41 }, want: 'firing:3' },
      { s: 150, f: { x: 41 }, want: 'clear' },
    ],
  },
  {
    name: 'a device reporting less often than the window is measured over its own interval',
    rule: RISE,
    steps: [
      { s: 0, f: { x: 20 }, want: '-' },
      { s: 300, f: { x: 45 }, want: 'clear' },
      { s: 600, f: { x: 110 }, want: 'firing:3' },
    ],
  },
  {
    name: '`fall_per_min` fires on a drop faster than the limit',
    rule: { field: 'x', fall_per_min: 5, window: '30s', level: 4 },
    steps: [
      { s: 0, f: { x: 100 }, want: '-' },
      { s: 30, f: { x: 98 }, want: 'clear' },
      { s: 60, f: { x: 90 }, want: 'firing:4' },
      { s: 90, f: { x: 95 }, want: 'clear' },
    ],
  },
  {
    name: 'with several channels the steepest one counts and a reading without any says nothing',
    rule: { fields: ['a', 'b'], rise_per_min: 10, level: 3 },
    steps: [
      { s: 0, f: { a: 30, b: 30 }, want: '-' },
      { s: 60, f: { a: 31, b: 45 }, want: 'firing:3' },
      { s: 70, f: { current: 5 }, want: '-' },
      { s: 120, f: { a: 32, b: 46 }, want: 'clear' },
    ],
  },
  {
    name: 'samples and the firing level survive a restart (state through JSON) mid-sequence',
    rule: RISE,
    steps: [
      { s: 0, f: { x: 20 }, want: '-' },
      { s: 30, restart: true, f: { x: 24 }, want: '-' },
      { s: 60, restart: true, f: { x: 33 }, want: 'firing:3' },
      { s: 90, restart: true, f: { x: 40 }, want: 'firing:3' },
      { s: 150, restart: true, f: { x: 40 }, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/rate-of-change', () => {
  test.each(CASES)('$name', ({ rule: yaml, steps }) => {
    expect(run(ev, rule(yaml), steps)).toEqual(wants(steps));
  });

  test('the value is the signed rate per minute', () => {
    const values: (number | undefined)[] = [];
    run(ev, rule(RISE), [{ s: 0, f: { x: 20 }, want: '' }, { s: 60, f: { x: 32.5 }, want: '' }], { each: (r: EvalResult | undefined) => values.push(r?.value) });
    expect(values).toEqual([undefined, 12.5]);
  });

  test.each([
    { name: 'a 1 Hz reporter over 10 min', every: 1, max: 64 },
    { name: 'a 10 Hz reporter with max_samples 8', every: 0.1, max: 8 },
  ])('the sample buffer stays bounded and keeps an anchor: $name', ({ every, max }) => {
    const r = rule({ ...RISE, max_samples: max });
    const state = ev.initialState(r) as RateOfChangeState;
    const steps = ramp(0, 600, every, (s) => 20 + s * 0.2, (s) => (s < 60 ? '-' : 'firing:3'));
    const got: string[] = [];
    let longest = 0;
    for (const step of steps) {
      got.push(...run(ev, r, [step], { state }));
      longest = Math.max(longest, state.samples.x?.length ?? 0);
    }
    expect(got).toEqual(wants(steps));
    expect(longest).toBeLessThanOrEqual(max);
  });

  test('resuming an active alert keeps firing while the rise lasts and clears when it stops', () => {
    const r = rule(RISE);
    const steps: Step[] = [
      { s: 0, f: { x: 20 }, want: '-' },
      { s: 60, f: { x: 40 }, want: 'firing:3' },
      { s: 120, f: { x: 41 }, want: 'clear' },
    ];
    expect(run(ev, r, steps, { state: ev.initialState(r, { level: 3 }) })).toEqual(wants(steps));
  });

  test.each([
    { name: 'both rise_per_min and fall_per_min', yaml: { field: 'x', rise_per_min: 1, fall_per_min: 1, level: 3 }, path: 'rise_per_min' },
    { name: 'neither rise_per_min nor fall_per_min', yaml: { field: 'x', level: 3 }, path: 'rise_per_min' },
    { name: 'a negative limit', yaml: { field: 'x', rise_per_min: -1, level: 3 }, path: 'rise_per_min' },
    { name: 'a zero window', yaml: { field: 'x', rise_per_min: 1, window: 0, level: 3 }, path: 'window' },
    { name: 'both field and fields', yaml: { field: 'x', fields: ['y'], rise_per_min: 1, level: 3 }, path: 'field' },
  ])('schema rejects $name at $path', ({ yaml, path }) => {
    const res = ev.schema.safeParse({ id: 'r', type: 'rate_of_change', title: 't', standard: 's', ...yaml });
    expect(res.success).toBe(false);
    if (!res.success) expect(res.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  test('window defaults to 1 min and max_samples to 64', () => {
    const r = rule({ field: 'x', rise_per_min: 1, level: 3 });
    expect([r.windowMs, r.maxSamples, r.direction, r.worse]).toEqual([60_000, 64, 'rise', 'higher']);
  });
});
