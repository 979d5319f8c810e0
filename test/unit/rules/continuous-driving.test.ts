import { describe, expect, test } from 'vitest';
import type { FieldValue } from '../../../src/pipeline/reading.js';
import {
  continuousDrivingEvaluator as ev,
  MAX_DRIVING_SPANS,
  type ContinuousDrivingRule,
  type ContinuousDrivingState,
} from '../../../src/rules/evaluators/continuous-driving.js';
import type { EvalResult } from '../../../src/rules/types.js';
import { buildRule, outcome } from './harness.js';
import { bj, bjLabel, vehicleCtx, vehicleReading } from './vehicle-harness.js';

const rule = (yaml: Record<string, unknown> = {}): ContinuousDrivingRule => buildRule(ev, { title: '疲劳驾驶', ...yaml }, 'vehicle');

const MIN = 60_000;

/**
 * A leg of a synthetic trace, readings every `every` minutes (default 1):
 * `drive: N` — N minutes between the leg's first and last moving reading (60 km/h, ACC on);
 * `stop: N` — N minutes from the last moving reading to the next leg's first reading, standing still in between;
 * `gap: N` — N minutes without any reading (terminal asleep or out of coverage).
 */
type Leg = ({ drive: number } | { stop: number } | { gap: number }) & { every?: number; f?: Record<string, FieldValue> };

interface Point {
  ts: number;
  f: Record<string, FieldValue>;
}

function trace(start: string, legs: Leg[]): Point[] {
  const out: Point[] = [];
  let t = bj(start);
  const emit = (ts: number, f: Record<string, FieldValue>): void => {
    if (out.length === 0 || (out[out.length - 1] as Point).ts < ts) out.push({ ts, f });
  };
  for (const leg of legs) {
    const step = (leg.every ?? 1) * MIN;
    if ('drive' in leg) {
      for (let ms = 0; ms <= leg.drive * MIN; ms += step) emit(t + ms, { speed_kmh: 60, acc_on: true, located: true, ...leg.f });
      t += leg.drive * MIN;
    } else if ('stop' in leg) {
      for (let ms = 0; ms < leg.stop * MIN; ms += step) emit(t + ms, { speed_kmh: 0, acc_on: true, located: true, ...leg.f });
      t += leg.stop * MIN;
    } else {
      t += leg.gap * MIN;
    }
  }
  return out;
}

/** Outcome per reading, labelled `D HH:MM`: `firing:2 连续驾驶超过4小时`, `clear`. */
function runTrace(r: ContinuousDrivingRule, points: Point[], cls: string | undefined, opts: { restartAt?: string; state?: ContinuousDrivingState } = {}): Map<string, string> {
  let state = opts.state ?? ev.initialState(r);
  const c = vehicleCtx(cls);
  const out = new Map<string, string>();
  for (const p of points) {
    if (bjLabel(p.ts) === opts.restartAt) state = JSON.parse(JSON.stringify(state)) as ContinuousDrivingState;
    const res: EvalResult | undefined = ev.evaluate(r, state, vehicleReading(p.ts, p.f), c);
    out.set(bjLabel(p.ts), res?.status === 'firing' ? `${outcome(res)} ${res.title ?? ''}`.trim() : outcome(res));
  }
  return out;
}

const firstFiring = (m: Map<string, string>): string | undefined => [...m].find(([, o]) => o.startsWith('firing'))?.join(' ');
const last = (m: Map<string, string>): string | undefined => [...m.values()].pop();

const C4 = 'firing:2 连续驾驶超过4小时';

const CASES: { name: string; cls?: string; start: string; legs: Leg[]; first?: string; final: string; at?: Record<string, string> }[] = [
  {
    name: '4 h 10 min of driving with a 15 min stop in the middle still fires (T1)',
    cls: 'coach',
    start: '08:00',
    legs: [{ drive: 125 }, { stop: 15 }, { drive: 125 }],
    // 125 min to 10:05, stopped to 10:20, 4 h of driving at 12:15: over it at the next reading.
    first: `15 12:16 ${C4}`,
    final: C4,
    at: { '15 12:15': 'clear' },
  },
  {
    name: 'a stop of 20 min is a rest: the stint starts again',
    cls: 'coach',
    start: '08:00',
    legs: [{ drive: 200 }, { stop: 20 }, { drive: 200 }],
    final: 'clear',
  },
  {
    name: 'a stop of 19 min is not a rest',
    cls: 'coach',
    start: '08:00',
    legs: [{ drive: 200 }, { stop: 19 }, { drive: 41 }],
    first: `15 12:20 ${C4}`,
    final: C4,
  },
  {
    name: 'the alert holds while stopping and clears once the stop reaches 20 min',
    cls: 'truck',
    start: '08:00',
    legs: [{ drive: 245 }, { stop: 20 }, { drive: 1 }],
    first: '15 12:01 firing:3 连续驾驶超过4小时',
    final: 'clear',
    at: { '15 12:05': 'firing:3 连续驾驶超过4小时', '15 12:24': 'firing:3 连续驾驶超过4小时', '15 12:25': 'clear' },
  },
  {
    name: 'passenger night driving over 2 h fires (T2), counting only the time after 22:00',
    cls: 'coach',
    start: '21:30',
    legs: [{ drive: 160 }],
    first: '16 00:01 firing:2 夜间连续驾驶超过2小时',
    final: 'firing:2 夜间连续驾驶超过2小时',
  },
  {
    name: 'the night limit is for passenger classes only',
    cls: 'hazmat',
    start: '21:30',
    legs: [{ drive: 160 }],
    final: 'clear',
  },
  {
    name: 'more than 8 h in 24 h with rests in between fires (T3)',
    cls: 'coach',
    start: '06:00',
    legs: [{ drive: 180 }, { stop: 30 }, { drive: 180 }, { stop: 30 }, { drive: 130 }],
    // 3 h + 3 h + 2 h 01 min at 15:01.
    first: '15 15:01 firing:2 24小时累计驾驶超过8小时',
    final: 'firing:2 24小时累计驾驶超过8小时',
  },
  {
    name: 'the 24 h alert clears once driving older than 24 h drops out of the sum',
    cls: 'coach',
    start: '06:00',
    legs: [{ drive: 180 }, { stop: 30 }, { drive: 180 }, { stop: 30 }, { drive: 130 }, { stop: 60, every: 10 }, { gap: 835 }, { stop: 30, every: 5 }],
    first: '15 15:01 firing:2 24小时累计驾驶超过8小时',
    // 490 min driven; at 06:10 the next day 10 of them are older than 24 h, at 06:15 15 are.
    at: { '16 06:05': 'firing:2 24小时累计驾驶超过8小时', '16 06:10': 'clear' },
    final: 'clear',
  },
  {
    name: 'readings up to max_gap (5 min) apart while moving count as driving',
    cls: 'truck',
    start: '08:00',
    legs: [{ drive: 244, every: 4 }],
    first: '15 12:04 firing:3 连续驾驶超过4小时',
    final: 'firing:3 连续驾驶超过4小时',
  },
  {
    name: 'moving readings further apart than max_gap do not count as driving',
    cls: 'truck',
    start: '08:00',
    legs: [{ drive: 300, every: 6 }],
    final: 'clear',
  },
  {
    name: 'speed with ACC off is not driving',
    cls: 'truck',
    start: '08:00',
    legs: [{ drive: 300, f: { acc_on: false } }],
    final: 'clear',
  },
  {
    name: 'a silence of 20 min or more is a rest',
    cls: 'truck',
    start: '08:00',
    legs: [{ drive: 200 }, { gap: 20 }, { drive: 100 }],
    final: 'clear',
  },
];

describe('rules/evaluators/continuous-driving', () => {
  test.each(CASES)('$name', ({ cls, start, legs, first, final, at }) => {
    const got = runTrace(rule(), trace(start, legs), cls);
    expect(firstFiring(got)).toBe(first);
    expect(last(got)).toBe(final);
    for (const [when, want] of Object.entries(at ?? {})) expect([when, got.get(when)]).toEqual([when, want]);
  });

  test.each(CASES)('state survives a restart mid-trace: $name', ({ cls, start, legs }) => {
    const points = trace(start, legs);
    const mid = bjLabel((points[Math.floor(points.length / 2)] as Point).ts);
    expect(runTrace(rule(), points, cls, { restartAt: mid })).toEqual(runTrace(rule(), points, cls));
  });

  test('the driving-time counter continues across a restart', () => {
    const r = rule();
    const c = vehicleCtx('coach');
    let state = ev.initialState(r);
    for (const p of trace('08:00', [{ drive: 90 }])) ev.evaluate(r, state, vehicleReading(p.ts, p.f), c);
    state = JSON.parse(JSON.stringify(state)) as ContinuousDrivingState;
    const res = ev.evaluate(r, state, vehicleReading(bj('09:31'), { speed_kmh: 50 }), c);
    expect(res).toEqual({ status: 'clear', value: 91 });
    expect(state).toMatchObject({ lastTs: bj('09:31'), lastMoving: true, stintMs: 91 * MIN, spans: [[bj('08:00'), bj('09:31'), 91 * MIN]] });
  });

  test('the 24 h intervals stay bounded, and merging them keeps what was driven', () => {
    const r = rule({ classes: { default: { daily: '8h' } } });
    // 3 min driving, 2 min standing, for 14 h: 504 min driven, in 168 intervals.
    const legs: Leg[] = Array.from({ length: 168 }, () => [{ drive: 3 }, { stop: 2 }]).flat();
    const c = vehicleCtx('truck');
    const state = ev.initialState(r);
    let first: EvalResult | undefined;
    for (const p of trace('06:00', legs)) {
      const res = ev.evaluate(r, state, vehicleReading(p.ts, p.f), c);
      first ??= res?.status === 'firing' ? res : undefined;
      expect(state.spans.length).toBeLessThanOrEqual(MAX_DRIVING_SPANS);
    }
    expect(first).toEqual({ status: 'firing', level: 2, value: 481, title: '24小时累计驾驶超过8小时' });
    expect(state.spans.reduce((sum, s) => sum + s[2], 0)).toBe(504 * MIN);
  });

  test('an alert resumed without state holds until the next rest', () => {
    const r = rule();
    const got = runTrace(r, trace('08:00', [{ drive: 30 }, { stop: 20 }, { drive: 1 }]), 'coach', { state: ev.initialState(r, { level: 2 }) });
    expect([got.get('15 08:00'), got.get('15 08:49'), got.get('15 08:50')]).toEqual(['firing:2', 'firing:2', 'clear']);
  });

  test('an unlocated fix or a reading without speed says nothing; a back-dated reading is ignored', () => {
    const r = rule();
    const c = vehicleCtx('coach');
    const state = ev.initialState(r);
    ev.evaluate(r, state, vehicleReading(bj('08:00'), { speed_kmh: 50 }), c);
    expect(ev.evaluate(r, state, vehicleReading(bj('08:01'), { speed_kmh: 50, located: false }), c)).toBeUndefined();
    expect(ev.evaluate(r, state, vehicleReading(bj('08:02'), { lat: 30.6, lon: 104 }), c)).toBeUndefined();
    expect(ev.evaluate(r, state, vehicleReading(bj('07:00'), { speed_kmh: 50 }), c)).toBeUndefined();
    expect(ev.evaluate(r, state, vehicleReading(bj('08:03'), { speed_kmh: 50 }), c)).toEqual({ status: 'clear', value: 3 });
  });

  test('a class no limits name, without a default, is not checked', () => {
    const r = rule({ classes: { coach: { continuous: '4h' } } });
    expect(ev.evaluate(r, ev.initialState(r), vehicleReading(bj('08:00'), { speed_kmh: 50 }), vehicleCtx('truck'))).toBeUndefined();
  });

  test('defaults ship T1–T3 for passenger classes, 4 h + 8 h for hazmat, 4 h for the rest', () => {
    const r = rule();
    expect(r).toMatchObject({ movingKmh: 5, restMs: 20 * MIN, maxGapMs: 5 * MIN, night: { fromMs: 22 * 60 * MIN, toMs: 6 * 60 * MIN } });
    expect(r.classes).toEqual({
      coach: { continuousMs: 240 * MIN, nightContinuousMs: 120 * MIN, dailyMs: 480 * MIN, level: 2 },
      bus: { continuousMs: 240 * MIN, nightContinuousMs: 120 * MIN, dailyMs: 480 * MIN, level: 2 },
      hazmat: { continuousMs: 240 * MIN, nightContinuousMs: undefined, dailyMs: 480 * MIN, level: 2 },
      default: { continuousMs: 240 * MIN, nightContinuousMs: undefined, dailyMs: undefined, level: 3 },
    });
  });

  test('configured limits and night window shape the titles', () => {
    const r = rule({ night: { from: '20:00', to: '05:00' }, classes: { default: { night_continuous: '90m', level: 1 } } });
    const got = runTrace(r, trace('19:00', [{ drive: 160 }]), 'truck');
    expect(firstFiring(got)).toBe('15 21:31 firing:1 夜间连续驾驶超过1.5小时');
  });

  test.each([
    { name: 'a class without any limit', yaml: { classes: { coach: { level: 2 } } }, path: 'classes.coach' },
    { name: 'a daily limit of 24 h', yaml: { classes: { coach: { daily: '24h' } } }, path: 'classes.coach.daily' },
    { name: 'max_gap longer than rest', yaml: { rest: '5m', max_gap: '10m' }, path: 'max_gap' },
    { name: 'a malformed duration', yaml: { rest: '20 minutes' }, path: 'rest' },
  ])('the schema rejects $name', ({ yaml, path }) => {
    const res = ev.schema.safeParse({ id: 'x', type: 'continuous_driving', title: 't', standard: 's', ...yaml });
    expect(res.success).toBe(false);
    expect(res.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
