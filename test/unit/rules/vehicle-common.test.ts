import { describe, expect, test } from 'vitest';
import { byClass, durationZh, inDailyWindow, localTimeOfDayMs, overlapDailyWindowMs, type DailyWindow } from '../../../src/rules/evaluators/vehicle-common.js';
import { bj } from './vehicle-harness.js';

const H = 3_600_000;
const NIGHT: DailyWindow = { fromMs: 22 * H, toMs: 6 * H };
const EARLY: DailyWindow = { fromMs: 2 * H, toMs: 5 * H };

describe('rules/evaluators/vehicle-common', () => {
  test.each([
    { at: '00:00', want: 0 },
    { at: '07:59:59', want: 8 * H - 1000 },
    { at: '23:30', want: 23.5 * H },
  ])('Beijing time of day of $at is $want ms', ({ at, want }) => {
    expect(localTimeOfDayMs(bj(at))).toBe(want);
  });

  test.each([
    { w: EARLY, at: '01:59:59', want: false },
    { w: EARLY, at: '02:00', want: true },
    { w: EARLY, at: '05:00', want: false },
    { w: NIGHT, at: '21:59:59', want: false },
    { w: NIGHT, at: '22:00', want: true },
    { w: NIGHT, at: '00:00', want: true },
    { w: NIGHT, at: '05:59:59', want: true },
    { w: NIGHT, at: '06:00', want: false },
  ])('inDailyWindow at $at is $want', ({ w, at, want }) => {
    expect(inDailyWindow(bj(at), w)).toBe(want);
  });

  test.each([
    { name: 'an interval before the window', a: '20:00', b: '21:00', w: NIGHT, wantH: 0 },
    { name: 'an interval straddling the evening start', a: '21:30', b: '23:00', w: NIGHT, wantH: 1 },
    { name: 'an interval across midnight', a: '23:00', b: '16 01:00', w: NIGHT, wantH: 2 },
    { name: 'an interval straddling the morning end', a: '16 05:00', b: '16 07:00', w: NIGHT, wantH: 1 },
    { name: 'a whole day', a: '12:00', b: '16 12:00', w: NIGHT, wantH: 8 },
    { name: 'two nights', a: '21:00', b: '17 07:00', w: NIGHT, wantH: 16 },
    { name: 'a daytime window', a: '00:00', b: '16 00:00', w: EARLY, wantH: 3 },
    { name: 'an empty interval', a: '23:00', b: '23:00', w: NIGHT, wantH: 0 },
  ])('overlapDailyWindowMs: $name', ({ a, b, w, wantH }) => {
    expect(overlapDailyWindowMs(bj(a), bj(b), w)).toBe(wantH * H);
  });

  test.each([
    { cls: 'hazmat', want: 80 },
    { cls: 'truck', want: 100 },
    { cls: undefined, want: 100 },
    { cls: 'toString', want: 100 },
  ])('byClass($cls) falls back to default for classes the table does not own', ({ cls, want }) => {
    expect(byClass({ hazmat: 80, default: 100 }, cls)).toBe(want);
  });

  test('byClass without a default is undefined for other classes', () => {
    expect(byClass({ coach: 1 }, 'truck')).toBeUndefined();
  });

  test.each([
    { ms: 4 * H, want: '4小时' },
    { ms: 1.5 * H, want: '1.5小时' },
    { ms: 20 * 60_000, want: '20分钟' },
    { ms: 90_500, want: '91秒' },
  ])('durationZh($ms) is $want', ({ ms, want }) => {
    expect(durationZh(ms)).toBe(want);
  });
});
