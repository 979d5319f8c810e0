import { describe, expect, test } from 'vitest';
import { limitFor, overspeedEvaluator as ev, type OverspeedRule } from '../../../src/rules/evaluators/overspeed.js';
import { buildRule } from './harness.js';
import { bj, runSteps, vehicleCtx, vehicleReading, vwants, type VStep } from './vehicle-harness.js';

const rule = (yaml: Record<string, unknown> = {}): OverspeedRule => buildRule(ev, { title: '超速报警', ...yaml }, 'vehicle');

const v = (speed_kmh: number): { speed_kmh: number; located: boolean } => ({ speed_kmh, located: true });

const CASES: { name: string; rule?: Record<string, unknown>; cls?: string; steps: VStep[] }[] = [
  {
    name: 'a hazmat truck over 80 km/h for 10 s fires with the limit in the title',
    cls: 'hazmat',
    steps: [
      { at: '14:00:00', f: v(79), want: 'clear' },
      { at: '14:00:01', f: v(85), want: 'pending:3' },
      { at: '14:00:10', f: v(86), want: 'pending:3' },
      { at: '14:00:11', f: v(85), want: 'firing:3', title: '超速报警(限速80km/h)' },
    ],
  },
  {
    name: 'driving at the limit is not overspeeding',
    cls: 'hazmat',
    steps: [
      { at: '14:00:00', f: v(80), want: 'clear' },
      { at: '14:00:30', f: v(80), want: 'clear' },
    ],
  },
  {
    name: 'once firing the rule holds down to limit − clear_margin_kmh and clears below it',
    cls: 'hazmat',
    steps: [
      { at: '14:00:00', f: v(90), want: 'pending:3' },
      { at: '14:00:10', f: v(90), want: 'firing:3' },
      { at: '14:00:20', f: v(78), want: 'firing:3' },
      { at: '14:00:30', f: v(75), want: 'firing:3' },
      { at: '14:00:40', f: v(74.9), want: 'clear' },
      { at: '14:00:50', f: v(78), want: 'clear' },
    ],
  },
  {
    name: 'a dip to the limit while pending restarts the 10 s',
    cls: 'hazmat',
    steps: [
      { at: '14:00:00', f: v(90), want: 'pending:3' },
      { at: '14:00:05', f: v(80), want: 'clear' },
      { at: '14:00:08', f: v(90), want: 'pending:3' },
      { at: '14:00:17', f: v(90), want: 'pending:3' },
      { at: '14:00:18', f: v(90), want: 'firing:3' },
    ],
  },
  {
    name: 'a coach may do 100 km/h by day but only 80 % of it at night (T5)',
    cls: 'coach',
    steps: [
      { at: '14:00:00', f: v(95), want: 'clear' },
      { at: '21:59:50', f: v(90), want: 'clear' },
      { at: '22:00:00', f: v(90), want: 'pending:3' },
      { at: '22:00:10', f: v(90), want: 'firing:3', title: '超速报警(夜间限速80km/h)' },
      { at: '16 05:59:59', f: v(90), want: 'firing:3' },
      { at: '16 06:00:00', f: v(90), want: 'clear' },
    ],
  },
  {
    name: 'a bus: 80 km/h by day, 64 km/h at night',
    cls: 'bus',
    steps: [
      { at: '23:00:00', f: v(70), want: 'pending:3' },
      { at: '23:00:10', f: v(70), want: 'firing:3', title: '超速报警(夜间限速64km/h)' },
      { at: '16 08:00:00', f: v(70), want: 'clear' },
    ],
  },
  {
    name: 'the night factor is for passenger classes only: a truck keeps the default 100 km/h',
    cls: 'truck',
    steps: [
      { at: '23:00:00', f: v(95), want: 'clear' },
      { at: '23:00:20', f: v(101), want: 'pending:3' },
      { at: '23:00:30', f: v(101), want: 'firing:3', title: '超速报警(限速100km/h)' },
    ],
  },
  {
    name: 'a device without vehicle_class gets the default limit',
    steps: [
      { at: '14:00:00', f: v(101), want: 'pending:3' },
      { at: '14:00:10', f: v(101), want: 'firing:3', title: '超速报警(限速100km/h)' },
    ],
  },
  {
    name: 'class limits, night window, factor, classes, margin, duration and level are configurable',
    rule: { limits: { default: 90, truck: 70 }, night: { from: '20:00', to: '07:00' }, night_factor: 0.9, night_classes: ['truck'], clear_margin_kmh: 0, for: '0s', level: 2 },
    cls: 'truck',
    steps: [
      { at: '19:00', f: v(70.5), want: 'firing:2', title: '超速报警(限速70km/h)' },
      { at: '19:01', f: v(70), want: 'firing:2' },
      { at: '19:02', f: v(69.9), want: 'clear' },
      { at: '20:00', f: v(63.5), want: 'firing:2', title: '超速报警(夜间限速63km/h)' },
    ],
  },
  {
    name: 'an unlocated fix (status bit1 = 0) and a reading without speed say nothing and leave the state alone',
    cls: 'hazmat',
    steps: [
      { at: '14:00:00', f: v(90), want: 'pending:3' },
      { at: '14:00:05', f: { speed_kmh: 20, located: false }, want: '-' },
      { at: '14:00:07', f: { lat: 30.6, lon: 104 }, want: '-' },
      { at: '14:00:10', f: v(90), want: 'firing:3' },
    ],
  },
  {
    name: 'state survives a restart mid-`for` and mid-alert',
    cls: 'hazmat',
    steps: [
      { at: '14:00:00', f: v(90), want: 'pending:3' },
      { at: '14:00:05', f: v(90), restart: true, want: 'pending:3' },
      { at: '14:00:10', f: v(90), restart: true, want: 'firing:3' },
      { at: '14:00:20', f: v(77), restart: true, want: 'firing:3' },
      { at: '14:00:30', f: v(70), restart: true, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/overspeed', () => {
  test.each(CASES)('$name', ({ rule: yaml, cls, steps }) => {
    expect(runSteps(ev, rule(yaml), steps, vehicleCtx(cls))).toEqual(vwants(steps));
  });

  test('defaults ship the class limits (T6/T7), 10 s, the T5 night factor and level 3', () => {
    const r = rule();
    expect(r.limits).toEqual({ default: 100, coach: 100, hazmat: 80, bus: 80 });
    expect(r).toMatchObject({ forMs: 10_000, nightFactor: 0.8, nightClasses: ['coach', 'bus'], clearMarginKmh: 5, level: 3, night: { fromMs: 22 * 3_600_000, toMs: 6 * 3_600_000 } });
  });

  test.each([
    { cls: 'hazmat', at: '03:00', want: { limitKmh: 80, night: false } },
    { cls: 'coach', at: '03:00', want: { limitKmh: 80, night: true } },
    { cls: 'coach', at: '12:00', want: { limitKmh: 100, night: false } },
    { cls: 'unknown', at: '03:00', want: { limitKmh: 100, night: false } },
    { cls: undefined, at: '03:00', want: { limitKmh: 100, night: false } },
    { cls: 'constructor', at: '12:00', want: { limitKmh: 100, night: false } },
  ])('limitFor: $cls at $at', ({ cls, at, want }) => {
    expect(limitFor(rule(), cls, bj(at))).toEqual(want);
  });

  test('the result carries the speed as its value', () => {
    const r = rule({ for: 0 });
    expect(ev.evaluate(r, ev.initialState(r), vehicleReading(bj('12:00'), v(88.8)), vehicleCtx('hazmat'))).toEqual({ status: 'firing', level: 3, value: 88.8, title: '超速报警(限速80km/h)' });
  });

  test('a resumed alert holds through the hysteresis band without waiting `for` again', () => {
    const r = rule();
    const steps: VStep[] = [{ at: '12:00', f: v(77), want: 'firing:3' }];
    expect(runSteps(ev, r, steps, vehicleCtx('hazmat'), ev.initialState(r, { level: 3 }))).toEqual(vwants(steps));
  });

  test.each([
    { name: 'limits without a default', yaml: { limits: { hazmat: 80 } }, path: 'limits' },
    { name: 'a non-positive limit', yaml: { limits: { default: 0 } }, path: 'limits.default' },
    { name: 'a night factor above 1', yaml: { night_factor: 1.2 }, path: 'night_factor' },
    { name: 'an empty night window', yaml: { night: { from: '22:00', to: '22:00' } }, path: 'night.to' },
  ])('the schema rejects $name', ({ yaml, path }) => {
    const res = ev.schema.safeParse({ id: 'x', type: 'overspeed', title: 't', standard: 's', ...yaml });
    expect(res.success).toBe(false);
    expect(res.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
