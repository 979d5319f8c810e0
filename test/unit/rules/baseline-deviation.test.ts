import { describe, expect, test } from 'vitest';
import { baselineDeviationEvaluator as ev, DEFAULT_BASELINE_DEVIATION, type BaselineDeviationRule, type BaselineDeviationState } from '../../../src/rules/evaluators/baseline-deviation.js';
import type { EvalResult } from '../../../src/rules/types.js';
import { buildRule, ctx, run, wants, type Step } from './harness.js';

const rule = (yaml: Record<string, unknown>): BaselineDeviationRule => buildRule(ev, yaml, 'dust');

// AQ 4273-2016 §5.1.4 b: ±20 % of the ΔP baseline; a 1 h window and 10-minute readings keep the tables short.
const D2 = { field: 'dp', deviation_pct: 20, baseline_window: '1h', min_samples: 3, level: 3 };
const M = 60; // seconds per minute

/** Six learning readings (0–50 min) of `v`. */
const learn = (v: number): Step[] => [0, 10, 20, 30, 40, 50].map((m) => ({ s: m * M, f: { dp: v }, want: '-' }));

const CASES: { name: string; rule: Record<string, unknown>; steps: Step[] }[] = [
  {
    name: 'learns the mean of the first window, then fires beyond ±20 % of it either way',
    rule: D2,
    steps: [
      { s: 0, f: { dp: 900 }, want: '-' },
      { s: 10 * M, f: { dp: 1100 }, want: '-' },
      { s: 30 * M, f: { dp: 1000 }, want: '-' },
      { s: 60 * M, f: { dp: 1100 }, want: 'clear' },
      { s: 70 * M, f: { dp: 1200 }, want: 'clear' },
      { s: 80 * M, f: { dp: 1250 }, want: 'firing:3' },
      { s: 90 * M, f: { dp: 790 }, want: 'firing:3' },
      { s: 100 * M, f: { dp: 850 }, want: 'clear' },
      { s: 110 * M, f: { pulse_cleaning: true }, want: '-' },
    ],
  },
  {
    name: 'with too few readings in the window learning goes on until min_samples',
    rule: { ...D2, min_samples: 4 },
    steps: [
      { s: 0, f: { dp: 1000 }, want: '-' },
      { s: 120 * M, f: { dp: 1000 }, want: '-' },
      { s: 180 * M, f: { dp: 1000 }, want: '-' },
      { s: 240 * M, f: { dp: 1000 }, want: '-' },
      { s: 300 * M, f: { dp: 1500 }, want: 'firing:3' },
    ],
  },
  {
    name: 'a fixed baseline skips learning',
    rule: { field: 'dp', baseline: 800, level: 3 },
    steps: [
      { s: 0, f: { dp: 800 }, want: 'clear' },
      { s: 1, f: { dp: 961 }, want: 'firing:3' },
      { s: 2, f: { dp: 960 }, want: 'clear' },
      { s: 3, f: { dp: 639 }, want: 'firing:3' },
    ],
  },
  {
    name: '`clear_pct` holds the alert until the deviation is back inside it',
    rule: { field: 'dp', baseline: 1000, deviation_pct: 20, clear_pct: 15, level: 3 },
    steps: [
      { f: { dp: 1190 }, want: 'clear' },
      { f: { dp: 1210 }, want: 'firing:3' },
      { f: { dp: 1160 }, want: 'firing:3' },
      { f: { dp: 1150 }, want: 'clear' },
      { f: { dp: 1190 }, want: 'clear' },
    ],
  },
  {
    name: '`for` holds a deviation pending (pulse-cleaning transients)',
    rule: { field: 'dp', baseline: 1000, for: '5m', level: 3 },
    steps: [
      { s: 0, f: { dp: 1500 }, want: 'pending:3' },
      { s: 60, f: { dp: 1000 }, want: 'clear' },
      { s: 120, f: { dp: 1500 }, want: 'pending:3' },
      { s: 420, f: { dp: 1500 }, want: 'firing:3' },
    ],
  },
  {
    name: '`only_while` ignores readings while the fan was last reported stopped, for learning and alarming',
    rule: { ...D2, only_while: 'fan_running' },
    steps: [
      { s: 0, f: { dp: 0, fan_running: false }, want: '-' },
      { s: 5 * M, f: { dp: 0 }, want: '-' },
      ...[10, 20, 30, 40, 50, 60].map((m) => ({ s: m * M, f: { dp: 1000, fan_running: true }, want: '-' })),
      { s: 71 * M, f: { dp: 1000 }, want: 'clear' },
      { s: 75 * M, f: { dp: 0, fan_running: false }, want: '-' },
      { s: 80 * M, f: { dp: 0 }, want: '-' },
      { s: 85 * M, f: { dp: 1300, fan_running: true }, want: 'firing:3' },
    ],
  },
  {
    name: 'the learning progress and the firing level survive a restart (state through JSON)',
    rule: D2,
    steps: [
      ...learn(1000).slice(0, 3),
      { s: 30 * M, restart: true, f: { dp: 1000 }, want: '-' },
      { s: 60 * M, restart: true, f: { dp: 1000 }, want: 'clear' },
      { s: 70 * M, f: { dp: 1300 }, want: 'firing:3' },
      { s: 80 * M, restart: true, f: { dp: 1300 }, want: 'firing:3' },
      { s: 90 * M, restart: true, f: { dp: 1000 }, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/baseline-deviation', () => {
  test.each(CASES)('$name', ({ rule: yaml, steps }) => {
    expect(run(ev, rule(yaml), steps)).toEqual(wants(steps));
  });

  test('the value is the absolute deviation in %, and the learned baseline is kept in state', () => {
    const r = rule(D2);
    const state = ev.initialState(r) as BaselineDeviationState;
    const values: (number | undefined)[] = [];
    run(ev, r, [...learn(1000), { s: 60 * M, f: { dp: 777 }, want: '' }], { state, each: (x: EvalResult | undefined) => values.push(x?.value) });
    expect(values.at(-1)).toBe(22.3);
    expect(state.baseline).toBe(1000);
  });

  test('a change of the relearn attribute (bag change) clears the alert and learns again', () => {
    const r = rule({ ...D2, relearn_attr: 'bag_changed_at' });
    const state = ev.initialState(r);
    const before = ctx('dust', { bag_changed_at: '2025-01-10' });
    const after = ctx('dust', { bag_changed_at: '2025-03-15' });
    expect(run(ev, r, [...learn(1000), { s: 60 * M, f: { dp: 1500 }, want: '' }], { state, ctx: before }).at(-1)).toBe('firing:3');
    // New bags: ΔP 600 is the new normal, not a 40 % deviation.
    const relearn: Step[] = [
      { s: 70 * M, f: { dp: 600 }, want: 'clear' },
      ...[80, 90, 100, 110, 120].map((m) => ({ s: m * M, f: { dp: 600 }, want: '-' })),
      { s: 130 * M, f: { dp: 600 }, want: 'clear' },
      { s: 140 * M, f: { dp: 800 }, want: 'firing:3' },
    ];
    expect(run(ev, r, relearn, { state, ctx: after })).toEqual(wants(relearn));
  });

  test('resuming an active alert without learned state says nothing until a baseline exists', () => {
    const r = rule(D2);
    const steps: Step[] = [...learn(1000), { s: 60 * M, f: { dp: 1300 }, want: 'firing:3' }];
    expect(run(ev, r, steps, { state: ev.initialState(r, { level: 3 }) })).toEqual(wants(steps));
    const fixed = rule({ field: 'dp', baseline: 1000, level: 3 });
    expect(run(ev, fixed, [{ f: { dp: 1000 }, want: '' }], { state: ev.initialState(fixed, { level: 3 }) })).toEqual(['clear']);
  });

  test('defaults: 20 %, 8 h, 5 samples, no `for`', () => {
    const r = rule({ field: 'dp', level: 3 });
    expect([r.deviationPct, r.clearPct, r.baselineWindowMs, r.minSamples, r.forMs]).toEqual([
      DEFAULT_BASELINE_DEVIATION.deviationPct,
      DEFAULT_BASELINE_DEVIATION.deviationPct,
      8 * 3_600_000,
      DEFAULT_BASELINE_DEVIATION.minSamples,
      0,
    ]);
  });

  test.each([
    { name: 'clear_pct above deviation_pct', yaml: { field: 'dp', deviation_pct: 20, clear_pct: 25, level: 3 }, path: 'clear_pct' },
    { name: 'a zero baseline', yaml: { field: 'dp', baseline: 0, level: 3 }, path: 'baseline' },
    { name: 'a bad baseline_window', yaml: { field: 'dp', baseline_window: '8 hours', level: 3 }, path: 'baseline_window' },
    { name: 'a missing level', yaml: { field: 'dp' }, path: 'level' },
  ])('schema rejects $name at $path', ({ yaml, path }) => {
    const res = ev.schema.safeParse({ id: 'r', type: 'baseline_deviation', title: 't', standard: 's', ...yaml });
    expect(res.success).toBe(false);
    if (!res.success) expect(res.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
