import { describe, expect, test } from 'vitest';
import { timeWindowEvaluator as ev, type TimeWindowRule } from '../../../src/rules/evaluators/time-window.js';
import { buildRule } from './harness.js';
import { bj, runSteps, vehicleCtx, vwants, type VStep } from './vehicle-harness.js';

const rule = (yaml: Record<string, unknown>): TimeWindowRule => buildRule(ev, yaml, 'vehicle');

const HAZMAT_TITLE = '危险货物运输车辆禁行时段行驶';
const COACH_TITLE = '客运车辆2-5时违规运行';
// T9 (a Chengdu-only window, as a province would set it) and T8 (national, coaches).
const BANS = {
  windows: [
    { from: '02:00', to: '05:00', vehicle_classes: ['hazmat'], regions: ['5101'], level: 2, title: HAZMAT_TITLE },
    { from: '02:00', to: '05:00', vehicle_classes: ['coach'], level: 2, title: COACH_TITLE },
  ],
};
const NIGHT = { windows: [{ from: '22:00', to: '06:00', level: 3 }] };
const FOR_60S = { for: '60s', windows: [{ from: '02:00', to: '05:00', level: 2 }] };

const moving = { speed_kmh: 60, located: true };
const slow = { speed_kmh: 5, located: true };

const CASES: { name: string; rule: Record<string, unknown>; cls?: string; region?: string; steps: VStep[] }[] = [
  {
    name: 'a hazmat truck moving in its region fires from 02:00 up to 05:00 (end excluded)',
    rule: BANS,
    cls: 'hazmat',
    steps: [
      { at: '01:59:59', f: moving, want: 'clear' },
      { at: '02:00', f: moving, want: 'firing:2', title: HAZMAT_TITLE },
      { at: '04:59:59', f: moving, want: 'firing:2' },
      { at: '05:00', f: moving, want: 'clear' },
    ],
  },
  {
    name: 'a vehicle at or below moving_kmh (5 km/h) is not moving',
    rule: BANS,
    cls: 'hazmat',
    steps: [
      { at: '03:00', f: slow, want: 'clear' },
      { at: '03:01', f: { speed_kmh: 5.1 }, want: 'firing:2' },
      { at: '03:02', f: { speed_kmh: 0 }, want: 'clear' },
    ],
  },
  {
    name: 'regions match by GB/T 2260 prefix: a hazmat truck registered in Guizhou is not bound by the Chengdu window',
    rule: BANS,
    cls: 'hazmat',
    region: '520102',
    steps: [{ at: '03:00', f: moving, want: 'clear' }],
  },
  {
    name: 'a window without regions binds its class everywhere (coaches, T8)',
    rule: BANS,
    cls: 'coach',
    region: '520102',
    steps: [{ at: '03:00', f: moving, want: 'firing:2', title: COACH_TITLE }],
  },
  {
    name: 'a class no window names is never bound',
    rule: BANS,
    cls: 'truck',
    steps: [{ at: '03:00', f: moving, want: 'clear' }],
  },
  {
    name: 'a device without vehicle_class is bound only by windows without vehicle_classes',
    rule: { windows: [...BANS.windows, { from: '03:00', to: '04:00', level: 4, title: '全部车辆' }] },
    steps: [
      { at: '02:30', f: moving, want: 'clear' },
      { at: '03:30', f: moving, want: 'firing:4', title: '全部车辆' },
    ],
  },
  {
    name: 'a window crossing midnight covers the evening and the early morning in Beijing time',
    rule: NIGHT,
    cls: 'truck',
    steps: [
      { at: '21:59:59', f: moving, want: 'clear' },
      { at: '22:00', f: moving, want: 'firing:3' },
      { at: '16 00:30', f: moving, want: 'firing:3' },
      { at: '16 05:59:59', f: moving, want: 'firing:3' },
      { at: '16 06:00', f: moving, want: 'clear' },
      { at: '16 12:00', f: moving, want: 'clear' },
    ],
  },
  {
    name: 'when windows overlap the most severe level wins',
    rule: { windows: [{ from: '00:00', to: '06:00', level: 3, title: '宽' }, { from: '02:00', to: '05:00', level: 2, title: '窄' }] },
    cls: 'hazmat',
    steps: [
      { at: '01:00', f: moving, want: 'firing:3', title: '宽' },
      { at: '02:30', f: moving, want: 'firing:2', title: '窄' },
      { at: '05:30', f: moving, want: 'firing:3', title: '宽' },
    ],
  },
  {
    name: '`for` holds the rule pending until moving inside the window has lasted that long',
    rule: FOR_60S,
    cls: 'hazmat',
    steps: [
      { at: '02:10:00', f: moving, want: 'pending:2' },
      { at: '02:10:30', f: moving, want: 'pending:2' },
      { at: '02:10:40', f: { speed_kmh: 0 }, want: 'clear' },
      { at: '02:11:00', f: moving, want: 'pending:2' },
      { at: '02:12:00', f: moving, want: 'firing:2' },
    ],
  },
  {
    name: 'an unlocated fix or a reading without speed says nothing',
    rule: BANS,
    cls: 'hazmat',
    steps: [
      { at: '03:00', f: { speed_kmh: 60, located: false }, want: '-' },
      { at: '03:01', f: { lat: 30.66, lon: 104.06 }, want: '-' },
      { at: '03:02', f: moving, want: 'firing:2' },
    ],
  },
  {
    name: 'a restart mid-`for` keeps the pending start: the rule fires on time',
    rule: FOR_60S,
    cls: 'hazmat',
    steps: [
      { at: '02:10:00', f: moving, want: 'pending:2' },
      { at: '02:10:30', f: moving, restart: true, want: 'pending:2' },
      { at: '02:11:00', f: moving, restart: true, want: 'firing:2' },
      { at: '02:11:10', f: slow, restart: true, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/time-window', () => {
  test.each(CASES)('$name', ({ rule: yaml, cls, region, steps }) => {
    expect(runSteps(ev, rule(yaml), steps, vehicleCtx(cls, region))).toEqual(vwants(steps));
  });

  test('defaults: moving above 5 km/h, no `for`, times parsed to ms after local midnight', () => {
    const r = rule(BANS);
    expect(r.movingKmh).toBe(5);
    expect(r.forMs).toBe(0);
    expect(r.windows[0]).toMatchObject({ fromMs: 2 * 3_600_000, toMs: 5 * 3_600_000, vehicleClasses: ['hazmat'], regions: ['5101'] });
  });

  test('a resumed alert is firing at once', () => {
    const r = rule(FOR_60S);
    expect(runSteps(ev, r, [{ at: '02:10', f: moving, want: 'firing:2' }], vehicleCtx('hazmat'), ev.initialState(r, { level: 2 }))).toEqual(['firing:2']);
  });

  test('the firing result carries the speed as its value', () => {
    const r = rule(BANS);
    expect(ev.evaluate(r, ev.initialState(r), { tenant: 't1', deviceId: 'd', kind: 'vehicle', channel: 'telemetry', ts: bj('03:00'), receivedAt: 0, fields: { speed_kmh: 72.5 }, tags: {} }, vehicleCtx('coach'))).toEqual({
      status: 'firing',
      level: 2,
      value: 72.5,
      title: COACH_TITLE,
    });
  });

  test.each([
    { name: 'a malformed time', windows: [{ from: '2:00', to: '05:00', level: 2 }], path: 'windows.0.from' },
    { name: 'a window from 24:00', windows: [{ from: '24:00', to: '05:00', level: 2 }], path: 'windows.0.from' },
    { name: 'an empty window', windows: [{ from: '05:00', to: '05:00', level: 2 }], path: 'windows.0.to' },
    { name: 'a region that is not a code', windows: [{ from: '02:00', to: '05:00', level: 2, regions: ['成都'] }], path: 'windows.0.regions.0' },
    { name: 'a missing level', windows: [{ from: '02:00', to: '05:00' }], path: 'windows.0.level' },
  ])('the schema rejects $name', ({ windows, path }) => {
    const res = ev.schema.safeParse({ id: 'x', type: 'time_window', title: 't', standard: 's', windows });
    expect(res.success).toBe(false);
    expect(res.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
