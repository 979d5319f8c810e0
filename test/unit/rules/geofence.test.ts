import { describe, expect, test } from 'vitest';
import { geofenceEvaluator as ev, insidePolygon, type GeofenceRule } from '../../../src/rules/evaluators/geofence.js';
import { buildRule } from './harness.js';
import { runSteps, vehicleCtx, vwants, type VStep } from './vehicle-harness.js';

const rule = (yaml: Record<string, unknown>): GeofenceRule => buildRule(ev, { title: '区域报警', ...yaml }, 'vehicle');

// A 0.01° square (about 1.1 km × 1 km) in central Chengdu, and a second one east of it.
const SQUARE: [number, number][] = [
  [30.65, 104.07],
  [30.65, 104.08],
  [30.66, 104.08],
  [30.66, 104.07],
];
const EAST: [number, number][] = [
  [30.65, 104.1],
  [30.65, 104.11],
  [30.66, 104.11],
  [30.66, 104.1],
];
// An L shape: the square [0, 2]² minus its upper-right quarter (the notch).
const L_SHAPE: [number, number][] = [
  [30, 104],
  [30, 104.02],
  [30.01, 104.02],
  [30.01, 104.01],
  [30.02, 104.01],
  [30.02, 104],
];

const zone = (alert_on: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ zones: [{ id: 'z1', name: '测试区', polygon: SQUARE, alert_on, ...extra }] });
const IN = { lat: 30.655, lon: 104.075, located: true };
const OUT = { lat: 30.7, lon: 104.075, located: true };
const IN_EAST = { lat: 30.655, lon: 104.105, located: true };

const CASES: { name: string; rule: Record<string, unknown>; cls?: string; steps: VStep[] }[] = [
  {
    name: '`inside` fires whenever the vehicle is inside, from its first fix, and clears outside',
    rule: zone('inside'),
    steps: [
      { at: '10:00', f: IN, want: 'firing:3', title: '区域报警(测试区)' },
      { at: '10:01', f: OUT, want: 'clear' },
      { at: '10:02', f: IN, want: 'firing:3' },
    ],
  },
  {
    name: '`enter` fires on entering and while inside, but not for a vehicle first seen inside',
    rule: zone('enter'),
    steps: [
      { at: '10:00', f: IN, want: 'clear' },
      { at: '10:01', f: IN, want: 'clear' },
      { at: '10:02', f: OUT, want: 'clear' },
      { at: '10:03', f: IN, want: 'firing:3' },
      { at: '10:04', f: IN, want: 'firing:3' },
      { at: '10:05', f: OUT, want: 'clear' },
    ],
  },
  {
    name: '`leave` fires on leaving and while outside, but not for a vehicle first seen outside',
    rule: zone('leave'),
    steps: [
      { at: '10:00', f: OUT, want: 'clear' },
      { at: '10:01', f: IN, want: 'clear' },
      { at: '10:02', f: OUT, want: 'firing:3' },
      { at: '10:03', f: OUT, want: 'firing:3' },
      { at: '10:04', f: IN, want: 'clear' },
    ],
  },
  {
    name: '`outside` fires whenever the vehicle is outside',
    rule: zone('outside', { level: 2 }),
    steps: [
      { at: '10:00', f: OUT, want: 'firing:2' },
      { at: '10:01', f: IN, want: 'clear' },
    ],
  },
  {
    name: 'a zone limited to vehicle classes ignores other classes',
    rule: zone('inside', { vehicle_classes: ['hazmat'] }),
    cls: 'coach',
    steps: [{ at: '10:00', f: IN, want: 'clear' }],
  },
  {
    name: 'a zone limited to vehicle classes binds those classes',
    rule: zone('inside', { vehicle_classes: ['hazmat'] }),
    cls: 'hazmat',
    steps: [{ at: '10:00', f: IN, want: 'firing:3' }],
  },
  {
    name: 'with several zones the title names the zone whose condition holds; the most severe wins',
    rule: {
      level: 3,
      zones: [
        { id: 'west', name: '西区', polygon: SQUARE, alert_on: 'inside' },
        { id: 'east', name: '东区', polygon: EAST, alert_on: 'inside', level: 2, title: '驶入东区禁行区' },
        { id: 'both', name: '大区', polygon: [[30.64, 104.06], [30.64, 104.12], [30.67, 104.12], [30.67, 104.06]], alert_on: 'inside', level: 4 },
      ],
    },
    steps: [
      { at: '10:00', f: IN, want: 'firing:3', title: '区域报警(西区)' },
      { at: '10:01', f: IN_EAST, want: 'firing:2', title: '驶入东区禁行区' },
      { at: '10:02', f: { lat: 30.655, lon: 104.09 }, want: 'firing:4', title: '区域报警(大区)' },
      { at: '10:03', f: OUT, want: 'clear' },
    ],
  },
  {
    name: 'ray casting handles a concave polygon: the notch of an L is outside',
    rule: { zones: [{ id: 'l', name: 'L', polygon: L_SHAPE, alert_on: 'inside' }] },
    steps: [
      { at: '10:00', f: { lat: 30.005, lon: 104.005 }, want: 'firing:3' },
      { at: '10:01', f: { lat: 30.015, lon: 104.015 }, want: 'clear' },
      { at: '10:02', f: { lat: 30.015, lon: 104.005 }, want: 'firing:3' },
      { at: '10:03', f: { lat: 30.005, lon: 104.015 }, want: 'firing:3' },
    ],
  },
  {
    name: 'an unlocated fix or a reading without coordinates says nothing and keeps where the vehicle was',
    rule: zone('enter'),
    steps: [
      { at: '10:00', f: OUT, want: 'clear' },
      { at: '10:01', f: { ...IN, located: false }, want: '-' },
      { at: '10:02', f: { speed_kmh: 30 }, want: '-' },
      { at: '10:03', f: IN, want: 'firing:3' },
    ],
  },
  {
    name: 'state survives a restart between leaving and re-entering',
    rule: zone('enter'),
    steps: [
      { at: '10:00', f: IN, want: 'clear' },
      { at: '10:01', f: OUT, want: 'clear' },
      { at: '10:02', f: IN, restart: true, want: 'firing:3' },
      { at: '10:03', f: IN, restart: true, want: 'firing:3' },
      { at: '10:04', f: OUT, restart: true, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/geofence', () => {
  test.each(CASES)('$name', ({ rule: yaml, cls, steps }) => {
    expect(runSteps(ev, rule(yaml), steps, vehicleCtx(cls))).toEqual(vwants(steps));
  });

  test('`for` holds the rule pending until the vehicle has been inside that long', () => {
    const steps: VStep[] = [
      { at: '10:00:00', f: IN, want: 'pending:3' },
      { at: '10:00:20', f: IN, want: 'pending:3' },
      { at: '10:00:25', f: OUT, want: 'clear' },
      { at: '10:00:30', f: IN, want: 'pending:3' },
      { at: '10:01:00', f: IN, want: 'firing:3' },
    ];
    expect(runSteps(ev, rule({ for: '30s', ...zone('inside') }), steps, vehicleCtx('hazmat'))).toEqual(vwants(steps));
  });

  test('an `enter` alert resumed without state holds while the vehicle is still inside', () => {
    const r = rule(zone('enter'));
    const steps: VStep[] = [
      { at: '10:00', f: IN, want: 'firing:3' },
      { at: '10:01', f: OUT, want: 'clear' },
      { at: '10:02', f: IN, want: 'firing:3' },
    ];
    expect(runSteps(ev, r, steps, vehicleCtx('hazmat'), ev.initialState(r, { level: 3 }))).toEqual(vwants(steps));
  });

  test('state keeps only the zones of the rule that apply to the device', () => {
    const r = rule({ zones: [{ id: 'a', name: 'A', polygon: SQUARE, alert_on: 'enter' }, { id: 'b', name: 'B', polygon: EAST, alert_on: 'enter', vehicle_classes: ['coach'] }] });
    const state = ev.initialState(r);
    state.zones.gone = { in: true, on: true };
    ev.evaluate(r, state, { tenant: 't', deviceId: 'd', kind: 'vehicle', channel: 'telemetry', ts: 0, receivedAt: 0, fields: IN, tags: {} }, vehicleCtx('hazmat'));
    expect(state.zones).toEqual({ a: { in: true, on: false } });
  });

  test.each([
    { lat: 30.655, lon: 104.075, want: true },
    { lat: 30.645, lon: 104.075, want: false },
    { lat: 30.655, lon: 104.085, want: false },
    { lat: 30.655, lon: 104.065, want: false },
  ])('insidePolygon($lat, $lon) is $want for the square', ({ lat, lon, want }) => {
    expect(insidePolygon(lat, lon, SQUARE)).toBe(want);
  });

  test.each([
    { name: 'a polygon of two points', zones: [{ id: 'a', name: 'A', polygon: [[30, 104], [30.1, 104]], alert_on: 'enter' }], path: 'zones.0.polygon' },
    { name: 'a latitude out of range', zones: [{ id: 'a', name: 'A', polygon: [[95, 104], [30.1, 104], [30, 104.1]], alert_on: 'enter' }], path: 'zones.0.polygon.0.0' },
    { name: 'an unknown trigger', zones: [{ id: 'a', name: 'A', polygon: SQUARE, alert_on: 'cross' }], path: 'zones.0.alert_on' },
    {
      name: 'a duplicate zone id',
      zones: [
        { id: 'a', name: 'A', polygon: SQUARE, alert_on: 'enter' },
        { id: 'a', name: 'B', polygon: EAST, alert_on: 'enter' },
      ],
      path: 'zones.1.id',
    },
  ])('the schema rejects $name', ({ zones, path }) => {
    const res = ev.schema.safeParse({ id: 'x', type: 'geofence', title: 't', standard: 's', zones });
    expect(res.success).toBe(false);
    expect(res.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
