import { describe, expect, test } from 'vitest';
import { isValidLocalTime, localToEpochMs, parseLocalIso } from '../../../src/capture/import/local-time.js';

const t = (iso: string) => parseLocalIso(iso) ?? (() => { throw new Error(iso); })();

describe('local-time', () => {
  test.each([
    // Morocco: UTC+1, but UTC+0 during Ramadan 2021 (11 Apr – 16 May): the two Twizy trips straddle it.
    ['2021-06-30T13:30:32', 'Africa/Casablanca', '2021-06-30T12:30:32Z'],
    ['2021-04-22T09:02:42', 'Africa/Casablanca', '2021-04-22T09:02:42Z'],
    ['2015-12-01T12:00', 'Asia/Shanghai', '2015-12-01T04:00:00Z'],
    ['2020-03-09T10:14:33', 'Europe/Moscow', '2020-03-09T07:14:33Z'],
    ['2016-11-09T08:59:00', 'America/New_York', '2016-11-09T13:59:00Z'],
    ['2016-07-01T08:00:00', 'America/New_York', '2016-07-01T12:00:00Z'],
  ])('%s in %s is %s', (local, zone, utc) => {
    expect(localToEpochMs(t(local), zone)).toBe(Date.parse(utc));
  });

  test('impossible dates are refused, not rolled over', () => {
    expect(isValidLocalTime({ year: 2000, month: 3, day: 0, hour: 0, minute: 0, second: 0 })).toBe(false);
    expect(isValidLocalTime({ year: 2006, month: 0, day: 30, hour: 0, minute: 0, second: 0 })).toBe(false);
    expect(isValidLocalTime({ year: 2021, month: 4, day: 31, hour: 0, minute: 0, second: 0 })).toBe(false);
    expect(isValidLocalTime({ year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59 })).toBe(true);
    expect(localToEpochMs({ year: 2021, month: 2, day: 29, hour: 0, minute: 0, second: 0 }, 'UTC')).toBeUndefined();
    expect(parseLocalIso('2015-11-26')).toEqual({ year: 2015, month: 11, day: 26, hour: 0, minute: 0, second: 0 });
    expect(parseLocalIso('2015-13-01')).toBeUndefined();
    expect(parseLocalIso('yesterday')).toBeUndefined();
  });
});
