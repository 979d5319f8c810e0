import { describe, expect, test } from 'vitest';
import { bitSet, stateEvaluator as ev, type StateRule } from '../../../src/rules/evaluators/state.js';
import type { EvalResult } from '../../../src/rules/types.js';
import { buildRule, run, wants, type Step } from './harness.js';

const rule = (yaml: Record<string, unknown>): StateRule => buildRule(ev, yaml);

const SMOKE_ALARM = { field: 'alarm', equals: true, level: 2 };
const VENT = { field: 'vent_state', equals: 'ruptured', level: 1 };
// JT/T 808-2019 Table 24 alarm bits: 0 emergency, 1 overspeed, 2 fatigue, 29 collision/rollover, 31 illegal displacement.
const ALARM_BITS = {
  field: 'alarm_bits',
  bits: [
    { bit: 1, level: 3, title: '超速报警' },
    { bit: 0, level: 1, title: '紧急报警' },
    { bit: 2, level: 2, title: '疲劳驾驶报警' },
    { bit: 29, level: 1, title: '碰撞侧翻报警' },
    { bit: 31, level: 3, title: '车辆非法位移' },
  ],
};

const CASES: { name: string; rule: Record<string, unknown>; steps: Step[] }[] = [
  {
    name: 'a boolean flag fires while true, clears when false, and a reading without it says nothing',
    rule: SMOKE_ALARM,
    steps: [
      { f: { alarm: false }, want: 'clear' },
      { f: { alarm: true }, want: 'firing:2' },
      { f: { battery_pct: 80 }, want: '-' },
      { f: { alarm: true }, want: 'firing:2' },
      { f: { alarm: false }, want: 'clear' },
    ],
  },
  {
    name: 'a string state is read from the tags (payload enums)',
    rule: VENT,
    steps: [
      { t: { vent_state: 'intact' }, want: 'clear' },
      { t: { vent_state: 'ruptured' }, want: 'firing:1' },
      { f: { vent_state: 1 }, want: '-' },
      { t: { vent_state: 'intact' }, want: 'clear' },
    ],
  },
  {
    name: 'a number state matches exactly and a value of another type says nothing',
    rule: { field: 'alarm_level', equals: 2, level: 2 },
    steps: [
      { f: { alarm_level: 1 }, want: 'clear' },
      { f: { alarm_level: 2 }, want: 'firing:2' },
      { f: { alarm_level: true }, want: '-' },
      { f: { alarm_level: 0 }, want: 'clear' },
    ],
  },
  {
    name: 'bits: the most severe set bit wins, and no mapped bit set clears',
    rule: ALARM_BITS,
    steps: [
      { f: { alarm_bits: 0 }, want: 'clear' },
      { f: { alarm_bits: 0b10 }, want: 'firing:3' },
      { f: { alarm_bits: 0b110 }, want: 'firing:2' },
      { f: { alarm_bits: 0b111 }, want: 'firing:1' },
      { f: { alarm_bits: 0b10 }, want: 'firing:3' },
      { f: { alarm_bits: 0b1000 }, want: 'clear' },
    ],
  },
  {
    name: 'bits above 2^31 (a full DWORD) are read correctly',
    rule: ALARM_BITS,
    steps: [
      { f: { alarm_bits: 2 ** 31 }, want: 'firing:3' },
      { f: { alarm_bits: 2 ** 31 + 2 ** 29 }, want: 'firing:1' },
      { f: { alarm_bits: 2 ** 30 }, want: 'clear' },
    ],
  },
  {
    name: 'bits: a negative, fractional or boolean word says nothing',
    rule: ALARM_BITS,
    steps: [
      { f: { alarm_bits: 1 }, want: 'firing:1' },
      { f: { alarm_bits: -1 }, want: '-' },
      { f: { alarm_bits: 1.5 }, want: '-' },
      { f: { alarm_bits: true }, want: '-' },
      { f: { alarm_bits: 0 }, want: 'clear' },
    ],
  },
  {
    name: '`clear_field` true in a reading without the field clears (smoke `alarm_cleared` events)',
    rule: { ...SMOKE_ALARM, clear_field: 'alarm_cleared' },
    steps: [
      { f: { alarm: true }, want: 'firing:2' },
      { f: { alarm_cleared: false }, want: '-' },
      { f: { alarm_cleared: true }, want: 'clear' },
      { f: { alarm: true, alarm_cleared: true }, want: 'firing:2' },
    ],
  },
  {
    name: '`for` holds the state pending until it has lasted that long in device time',
    rule: { ...SMOKE_ALARM, for: '15s' },
    steps: [
      { s: 0, f: { alarm: true }, want: 'pending:2' },
      { s: 14, f: { alarm: true }, want: 'pending:2' },
      { s: 15, f: { alarm: true }, want: 'firing:2' },
      { s: 16, f: { alarm: false }, want: 'clear' },
      { s: 17, f: { alarm: true }, want: 'pending:2' },
    ],
  },
  {
    name: 'a half-elapsed `for` and the firing level survive a restart (state through JSON)',
    rule: { ...ALARM_BITS, for: '10s' },
    steps: [
      { s: 0, f: { alarm_bits: 0b100 }, want: 'pending:2' },
      { s: 6, restart: true, f: { alarm_bits: 0b100 }, want: 'pending:2' },
      { s: 10, restart: true, f: { alarm_bits: 0b100 }, want: 'firing:2' },
      { s: 11, restart: true, f: { alarm_bits: 0b1 }, want: 'firing:1' },
      { s: 12, restart: true, f: { alarm_bits: 0 }, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/state', () => {
  test.each(CASES)('$name', ({ rule: yaml, steps }) => {
    expect(run(ev, rule(yaml), steps)).toEqual(wants(steps));
  });

  test('the firing bit gives the title and the word is the value', () => {
    const out: (EvalResult | undefined)[] = [];
    run(ev, rule(ALARM_BITS), [{ f: { alarm_bits: 0b110 }, want: '' }, { f: { alarm_bits: 2 ** 29 + 2 }, want: '' }], { each: (r) => out.push(r) });
    expect(out.map((r) => [r?.title, r?.value])).toEqual([
      ['疲劳驾驶报警', 6],
      ['碰撞侧翻报警', 2 ** 29 + 2],
    ]);
  });

  test('bits of one level: the first listed wins', () => {
    const r = rule({ field: 'w', bits: [{ bit: 3, level: 1, title: 'b3' }, { bit: 0, level: 1, title: 'b0' }] });
    const out: (EvalResult | undefined)[] = [];
    run(ev, r, [{ f: { w: 0b1001 }, want: '' }], { each: (x) => out.push(x) });
    expect(out[0]?.title).toBe('b3');
  });

  test('resuming an active alert fires at once on the state, skipping `for`', () => {
    const r = rule({ ...SMOKE_ALARM, for: '1m' });
    expect(run(ev, r, [{ f: { alarm: true }, want: '' }, { f: { alarm: false }, want: '' }], { state: ev.initialState(r, { level: 2 }) })).toEqual(['firing:2', 'clear']);
  });

  test.each([
    { w: 0, bit: 0, set: false },
    { w: 1, bit: 0, set: true },
    { w: 0b100, bit: 2, set: true },
    { w: 2 ** 31, bit: 31, set: true },
    { w: 2 ** 31, bit: 30, set: false },
    { w: 2 ** 52, bit: 52, set: true },
  ])('bitSet($w, $bit) is $set', ({ w, bit, set }) => {
    expect(bitSet(w, bit)).toBe(set);
  });

  test.each([
    { name: 'both equals and bits', yaml: { field: 'x', equals: true, level: 2, bits: [{ bit: 0, level: 1 }] }, path: 'equals' },
    { name: 'neither equals nor bits', yaml: { field: 'x' }, path: 'equals' },
    { name: 'equals without a level', yaml: { field: 'x', equals: true }, path: 'level' },
    { name: 'bits with a rule level', yaml: { field: 'x', level: 2, bits: [{ bit: 0, level: 1 }] }, path: 'level' },
    { name: 'a bit mapped twice', yaml: { field: 'x', bits: [{ bit: 0, level: 1 }, { bit: 0, level: 2 }] }, path: 'bits.1.bit' },
    { name: 'a bit past 52', yaml: { field: 'x', bits: [{ bit: 53, level: 1 }] }, path: 'bits.0.bit' },
    { name: 'an unknown key in a bit', yaml: { field: 'x', bits: [{ bit: 1, level: 1, colour: 'red' }] }, path: 'bits.0' },
  ])('schema rejects $name at $path', ({ yaml, path }) => {
    const res = ev.schema.safeParse({ id: 'r', type: 'state', title: 't', standard: 's', ...yaml });
    expect(res.success).toBe(false);
    if (!res.success) expect(res.error.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
