import { describe, expect, test } from 'vitest';
import type { FieldValue, Reading } from '../../../src/pipeline/reading.js';
import { thresholdEvaluator, type ThresholdRule, type ThresholdState } from '../../../src/rules/evaluators/threshold.js';
import type { AlertLevel, EvalContext, EvalResult } from '../../../src/rules/types.js';

const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

/** A rule as the loader would build it from YAML (levels sorted, defaults applied). */
function rule(yaml: Record<string, unknown>): ThresholdRule {
  const parsed = thresholdEvaluator.schema.parse({ id: 'test.rule', type: 'threshold', title: '测试', standard: 'test', ...yaml });
  return { ...parsed, kind: 'gas', source: 'test.yaml' };
}

const CTX: EvalContext = {
  device: { tenant: 't', deviceId: 'd', kind: 'gas', heartbeatS: 60, attrs: {} },
  now: T0,
  observedSince: T0,
};

function reading(ts: number, fields: Record<string, FieldValue>): Reading {
  return { tenant: 't1', deviceId: 'd1', kind: 'gas', channel: 'telemetry', ts, receivedAt: ts, fields, tags: {} };
}

/**
 * One reading and what the rule should say: `firing:2`, `pending:3`, `clear`, or `-` for "says nothing".
 * `v` is the value of the field `x` (or a fields object); `s` is device time in seconds from T0 (default: step index).
 */
interface Step {
  v: number | Record<string, FieldValue>;
  s?: number;
  want: string;
}

function outcome(r: EvalResult | undefined): string {
  if (!r) return '-';
  return r.status === 'clear' ? 'clear' : `${r.status}:${r.level}`;
}

function run(r: ThresholdRule, steps: Step[], state: ThresholdState = thresholdEvaluator.initialState(r)): string[] {
  return steps.map((step, i) => {
    const fields = typeof step.v === 'number' ? { x: step.v } : step.v;
    return outcome(thresholdEvaluator.evaluate(r, state, reading(T0 + (step.s ?? i) * 1000, fields), CTX));
  });
}

const ONE_LEVEL = { field: 'x', levels: [{ level: 2, value: 70 }] };
const HYSTERESIS = { field: 'x', levels: [{ level: 2, value: 70, clear: 65 }] };
// gas.lel: 二级 50 %LEL (orange), 一级 25 %LEL (yellow); listed least severe first to check the sort.
const TWO_LEVELS = {
  field: 'x',
  levels: [
    { level: 3, value: 25, clear: 22 },
    { level: 2, value: 50, clear: 45 },
  ],
};
const BATTERY = { field: 'x', direction: 'below', levels: [{ level: 4, value: 20, clear: 25 }] };
const BELOW_TWO = {
  field: 'x',
  direction: 'below',
  levels: [
    { level: 4, value: 20, clear: 25 },
    { level: 3, value: 10, clear: 12 },
  ],
};
const FOR_10S = { field: 'x', for: '10s', levels: [{ level: 3, value: 100, clear: 95 }] };

const CASES: { name: string; rule: Record<string, unknown>; steps: Step[] }[] = [
  {
    name: 'a single level fires at its value and clears below it',
    rule: ONE_LEVEL,
    steps: [
      { v: 60, want: 'clear' },
      { v: 70, want: 'firing:2' },
      { v: 85, want: 'firing:2' },
      { v: 69.9, want: 'clear' },
      { v: 71, want: 'firing:2' },
    ],
  },
  {
    name: 'hysteresis keeps the rule firing between clear and value',
    rule: HYSTERESIS,
    steps: [
      { v: 68, want: 'clear' },
      { v: 72, want: 'firing:2' },
      { v: 68, want: 'firing:2' },
      { v: 65, want: 'firing:2' },
      { v: 64.9, want: 'clear' },
      { v: 68, want: 'clear' },
      { v: 70, want: 'firing:2' },
    ],
  },
  {
    name: 'with several levels the most severe reached wins',
    rule: TWO_LEVELS,
    steps: [
      { v: 10, want: 'clear' },
      { v: 60, want: 'firing:2' },
      { v: 0, want: 'clear' },
      { v: 25, want: 'firing:3' },
    ],
  },
  {
    name: 'several levels upgrade, downgrade through each hysteresis band, then clear',
    rule: TWO_LEVELS,
    steps: [
      { v: 30, want: 'firing:3' },
      { v: 47, want: 'firing:3' },
      { v: 50, want: 'firing:2' },
      { v: 46, want: 'firing:2' },
      { v: 45, want: 'firing:2' },
      { v: 44, want: 'firing:3' },
      { v: 47, want: 'firing:3' },
      { v: 23, want: 'firing:3' },
      { v: 21.9, want: 'clear' },
    ],
  },
  {
    name: '`direction: below` fires at or under the value and clears above `clear`',
    rule: BATTERY,
    steps: [
      { v: 50, want: 'clear' },
      { v: 21, want: 'clear' },
      { v: 20, want: 'firing:4' },
      { v: 24, want: 'firing:4' },
      { v: 25, want: 'firing:4' },
      { v: 26, want: 'clear' },
      { v: 22, want: 'clear' },
    ],
  },
  {
    name: '`direction: below` with several levels: a lower value is more severe',
    rule: BELOW_TWO,
    steps: [
      { v: 18, want: 'firing:4' },
      { v: 9, want: 'firing:3' },
      { v: 11, want: 'firing:3' },
      { v: 13, want: 'firing:4' },
      { v: 30, want: 'clear' },
    ],
  },
  {
    name: '`for` holds the rule pending until the condition has lasted that long in device time',
    rule: FOR_10S,
    steps: [
      { s: 0, v: 101, want: 'pending:3' },
      { s: 5, v: 120, want: 'pending:3' },
      { s: 9.999, v: 101, want: 'pending:3' },
      { s: 10, v: 101, want: 'firing:3' },
      { s: 11, v: 96, want: 'firing:3' },
      { s: 12, v: 94, want: 'clear' },
    ],
  },
  {
    name: 'a dip while pending restarts the `for` duration',
    rule: FOR_10S,
    steps: [
      { s: 0, v: 101, want: 'pending:3' },
      { s: 6, v: 90, want: 'clear' },
      { s: 8, v: 101, want: 'pending:3' },
      { s: 16, v: 101, want: 'pending:3' },
      { s: 18, v: 101, want: 'firing:3' },
    ],
  },
  {
    name: 'hysteresis does not apply while pending: a value under `value` restarts the duration',
    rule: FOR_10S,
    steps: [
      { s: 0, v: 101, want: 'pending:3' },
      { s: 4, v: 97, want: 'clear' },
      { s: 10, v: 101, want: 'pending:3' },
    ],
  },
  {
    name: 'after clearing, firing again needs the full `for` duration again',
    rule: FOR_10S,
    steps: [
      { s: 0, v: 101, want: 'pending:3' },
      { s: 10, v: 101, want: 'firing:3' },
      { s: 11, v: 80, want: 'clear' },
      { s: 12, v: 101, want: 'pending:3' },
      { s: 22, v: 101, want: 'firing:3' },
    ],
  },
  {
    name: '`for` follows device time, not the order of arrival',
    rule: FOR_10S,
    steps: [
      { s: 100, v: 101, want: 'pending:3' },
      { s: 200, v: 101, want: 'firing:3' },
    ],
  },
  {
    name: '`fields` takes the worst present channel',
    rule: { fields: ['temp_c_1', 'temp_c_2', 'temp_c_3', 'temp_c_4'], levels: [{ level: 2, value: 70, clear: 65 }] },
    steps: [
      { v: { temp_c_1: 30, temp_c_2: 40, temp_c_3: 35, temp_c_4: 20 }, want: 'clear' },
      { v: { temp_c_1: 30, temp_c_3: 72 }, want: 'firing:2' },
      { v: { temp_c_1: 66, temp_c_2: 20 }, want: 'firing:2' },
      { v: { temp_c_4: 64 }, want: 'clear' },
    ],
  },
  {
    name: '`fields` with `direction: below` takes the lowest channel',
    rule: { fields: ['a', 'b'], direction: 'below', levels: [{ level: 4, value: 20 }] },
    steps: [
      { v: { a: 50, b: 19 }, want: 'firing:4' },
      { v: { a: 21, b: 90 }, want: 'clear' },
    ],
  },
  {
    name: 'a reading without the field says nothing and leaves the state alone',
    rule: HYSTERESIS,
    steps: [
      { v: { y: 100 }, want: '-' },
      { v: 80, want: 'firing:2' },
      { v: { y: 0 }, want: '-' },
      { v: {}, want: '-' },
      { v: 66, want: 'firing:2' },
    ],
  },
  {
    name: 'a boolean in the field is not a value',
    rule: ONE_LEVEL,
    steps: [{ v: { x: true }, want: '-' }],
  },
];

describe('rules/evaluators/threshold', () => {
  test.each(CASES)('$name', ({ rule: yaml, steps }) => {
    expect(run(rule(yaml), steps)).toEqual(steps.map((s) => s.want));
  });

  test('levels are sorted most severe first and `clear` defaults to `value`', () => {
    const r = rule(TWO_LEVELS);
    expect(r.levels.map((l) => [l.level, l.value, l.clear])).toEqual([
      [2, 50, 45],
      [3, 25, 22],
    ]);
    expect(rule(ONE_LEVEL).levels[0]?.clear).toBe(70);
    expect(rule(ONE_LEVEL).forMs).toBe(0);
    expect(rule(FOR_10S).forMs).toBe(10_000);
    expect(rule(BATTERY).worse).toBe('lower');
    expect(rule(ONE_LEVEL).worse).toBe('higher');
  });

  test('the result carries the value looked at and the level title', () => {
    const r = rule({ fields: ['a', 'b'], levels: [{ level: 2, value: 50, title: '二级报警' }, { level: 3, value: 25 }] });
    const state = thresholdEvaluator.initialState(r);
    expect(thresholdEvaluator.evaluate(r, state, reading(T0, { a: 10, b: 60 }), CTX)).toEqual({ status: 'firing', level: 2, value: 60, title: '二级报警' });
    expect(thresholdEvaluator.evaluate(r, state, reading(T0 + 1, { a: 30 }), CTX)).toEqual({ status: 'firing', level: 3, value: 30, title: undefined });
    expect(thresholdEvaluator.evaluate(r, state, reading(T0 + 2, { b: 1 }), CTX)).toEqual({ status: 'clear', value: 1 });
  });

  test.each<{ level: AlertLevel; v: number; want: string }>([
    { level: 2, v: 46, want: 'firing:2' },
    { level: 3, v: 46, want: 'firing:3' },
    { level: 2, v: 21, want: 'clear' },
  ])('a state resumed at level $level holds through hysteresis: $v gives $want', ({ level, v, want }) => {
    const r = rule(TWO_LEVELS);
    expect(run(r, [{ v, want }], thresholdEvaluator.initialState(r, { level }))).toEqual([want]);
  });

  test('a resumed firing state skips the `for` duration', () => {
    const r = rule(FOR_10S);
    expect(run(r, [{ v: 101, want: 'firing:3' }], thresholdEvaluator.initialState(r, { level: 3 }))).toEqual(['firing:3']);
  });
});
