import { describe, expect, test } from 'vitest';
import { DEFAULT_REPEATING, repeatingEvaluator as ev, type RepeatingRule } from '../../../src/rules/evaluators/repeating.js';
import { buildRule, ctx, reading, run, T0, wants, type Step } from './harness.js';

const rule = (yaml: Record<string, unknown>): RepeatingRule => buildRule(ev, yaml, 'electrical_fire');

// Arc half-cycles ≥ 14 on three consecutive 1 s windows (GB 50166-2019 §4.8.6 numbers, count chosen for the test).
const ARC = { field: 'x', op: '>=', value: 14, count: 3, level: 3 };

const CASES: { name: string; rule: Record<string, unknown>; steps: Step[] }[] = [
  {
    name: 'fires on the Nth consecutive breach and is pending before it',
    rule: ARC,
    steps: [
      { f: { x: 2 }, want: 'clear' },
      { f: { x: 14 }, want: 'pending:3' },
      { f: { x: 20 }, want: 'pending:3' },
      { f: { x: 15 }, want: 'firing:3' },
      { f: { x: 30 }, want: 'firing:3' },
    ],
  },
  {
    name: 'any non-breach clears and the count starts again',
    rule: ARC,
    steps: [
      { f: { x: 14 }, want: 'pending:3' },
      { f: { x: 14 }, want: 'pending:3' },
      { f: { x: 13 }, want: 'clear' },
      { f: { x: 14 }, want: 'pending:3' },
      { f: { x: 14 }, want: 'pending:3' },
      { f: { x: 14 }, want: 'firing:3' },
      { f: { x: 9 }, want: 'clear' },
      { f: { x: 14 }, want: 'pending:3' },
    ],
  },
  {
    name: 'a reading without the field, or with a boolean for a number, says nothing and keeps the count',
    rule: ARC,
    steps: [
      { f: { x: 14 }, want: 'pending:3' },
      { f: { y: 1 }, want: '-' },
      { f: { x: true }, want: '-' },
      { f: { x: 14 }, want: 'pending:3' },
      { f: { x: 14 }, want: 'firing:3' },
    ],
  },
  {
    name: 'a re-sent point (same device time) is not counted twice',
    rule: ARC,
    steps: [
      { s: 0, f: { x: 14 }, want: 'pending:3' },
      { s: 0, f: { x: 14 }, want: 'pending:3' },
      { s: 1, f: { x: 14 }, want: 'pending:3' },
      { s: 2, f: { x: 14 }, want: 'firing:3' },
    ],
  },
  {
    name: '`<` counts readings below the value',
    rule: { field: 'x', op: '<', value: 19.5, count: 2, level: 2 },
    steps: [
      { f: { x: 19.5 }, want: 'clear' },
      { f: { x: 19 }, want: 'pending:2' },
      { f: { x: 18 }, want: 'firing:2' },
    ],
  },
  {
    name: '`== true` counts a boolean flag and `count: 1` fires on the first',
    rule: { field: 'x', op: '==', value: true, count: 1, level: 4 },
    steps: [
      { f: { x: false }, want: 'clear' },
      { f: { x: true }, want: 'firing:4' },
      { f: { x: 1 }, want: '-' },
      { f: { x: false }, want: 'clear' },
    ],
  },
  {
    name: '`!=` breaches on any other value',
    rule: { field: 'x', op: '!=', value: 0, count: 2, level: 4 },
    steps: [
      { f: { x: 0 }, want: 'clear' },
      { f: { x: 3 }, want: 'pending:4' },
      { f: { x: -1 }, want: 'firing:4' },
    ],
  },
  {
    name: 'the count survives a restart (state through JSON) mid-sequence',
    rule: ARC,
    steps: [
      { f: { x: 14 }, want: 'pending:3' },
      { f: { x: 14 }, want: 'pending:3' },
      { restart: true, f: { x: 14 }, want: 'firing:3' },
      { restart: true, f: { x: 20 }, want: 'firing:3' },
      { restart: true, f: { x: 1 }, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/repeating', () => {
  test.each(CASES)('$name', ({ rule: yaml, steps }) => {
    expect(run(ev, rule(yaml), steps)).toEqual(wants(steps));
  });

  test('resuming an active alert fires on the next breach without counting again, and clears on a non-breach', () => {
    const r = rule(ARC);
    expect(run(ev, r, [{ f: { x: 14 }, want: '' }, { f: { x: 0 }, want: '' }], { state: ev.initialState(r, { level: 3 }) })).toEqual(['firing:3', 'clear']);
  });

  test('the value is the field, and a `<` rule is worse when lower', () => {
    const r = rule({ field: 'x', op: '<=', value: 10, count: 1, level: 4 });
    expect(r.worse).toBe('lower');
    expect(ev.evaluate(r, ev.initialState(r), reading(T0, { x: 7 }), ctx())).toEqual({ status: 'firing', level: 4, value: 7 });
  });

  test.each([
    { name: 'count defaults to 3', yaml: { field: 'x', op: '>', value: 1, level: 3 }, ok: true },
    { name: 'a boolean value with > is rejected at op', yaml: { field: 'x', op: '>', value: true, level: 3 }, ok: false, path: 'op' },
    { name: 'an unknown op is rejected', yaml: { field: 'x', op: '=>', value: 1, level: 3 }, ok: false, path: 'op' },
    { name: 'count 0 is rejected', yaml: { field: 'x', op: '>', value: 1, count: 0, level: 3 }, ok: false, path: 'count' },
    { name: 'a level is required', yaml: { field: 'x', op: '>', value: 1 }, ok: false, path: 'level' },
  ])('schema: $name', ({ yaml, ok, path }) => {
    const res = ev.schema.safeParse({ id: 'r', type: 'repeating', title: 't', standard: 's', ...yaml });
    expect(res.success).toBe(ok);
    if (res.success) expect((res.data as RepeatingRule).count).toBe(DEFAULT_REPEATING.count);
    else expect(res.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
