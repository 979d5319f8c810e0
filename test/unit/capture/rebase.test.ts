import { describe, expect, test } from 'vitest';
import { latestDeviceTs, rebaseOffsetMs, shiftPayload } from '../../../src/capture/rebase.js';
import { parseSpeed } from '../../../src/capture/replay.js';

describe('rebase', () => {
  test('shifts ts and every readings[].ts, writing times as epoch ms; anything else is left alone', () => {
    expect(shiftPayload({ ts: 1000, seq: 3, data: { a: 1 } }, 500)).toEqual({ ts: 1500, seq: 3, data: { a: 1 } });
    // A zone-less time is Beijing time (wire contract); it becomes epoch ms.
    expect(shiftPayload({ ts: '2025-03-15 14:30:05', data: {} }, 1000)).toEqual({ ts: Date.parse('2025-03-15T14:30:05+08:00') + 1000, data: {} });
    expect(shiftPayload({ readings: [{ ts: 1, data: {} }, { ts: '2025-03-15T06:30:05Z', data: {} }, 'x'] }, 10)).toEqual({
      readings: [{ ts: 11, data: {} }, { ts: Date.parse('2025-03-15T06:30:05Z') + 10, data: {} }, 'x'],
    });
    expect(shiftPayload({ ts: 'garbage', data: {} }, 10)).toEqual({ ts: 'garbage', data: {} });
    expect(shiftPayload([1, 2], 10)).toEqual([1, 2]);
    expect(shiftPayload('text', 10)).toBe('text');
  });

  test('the latest device time is found in single and batch envelopes', () => {
    expect(
      latestDeviceTs([
        { t: 0, topic: 'a', payload: { ts: 5, data: {} } },
        { t: 1, topic: 'a', payload: { readings: [{ ts: 9, data: {} }, { ts: 7, data: {} }] } },
        { t: 2, topic: 'a', payload_text: '{"ts": 100}' },
      ]),
    ).toBe(9);
    expect(latestDeviceTs([{ t: 0, topic: 'a', payload: 'x' }])).toBeUndefined();
  });

  test('at 1× the recording is relived now; at max it ends now; in between no reading is ever ahead of its send time', () => {
    const start = 1_800_000_000_000;
    const firstTs = 1_600_000_000_000;
    const spanMs = 3_600_000;
    const lastTs = firstTs + spanMs;
    // 1×: the first reading (t = 0) is stamped with the pass start.
    expect(firstTs + rebaseOffsetMs(start, spanMs, 1, lastTs)).toBe(start);
    // max: the last reading is stamped with the pass start, everything else before it.
    expect(lastTs + rebaseOffsetMs(start, spanMs, Infinity, lastTs)).toBe(start);
    // 10×: reading at t is sent at start + t/10 and stamped no later than that.
    const off = rebaseOffsetMs(start, spanMs, 10, lastTs);
    for (const t of [0, 1000, spanMs / 2, spanMs]) expect(firstTs + t + off).toBeLessThanOrEqual(start + t / 10);
    expect(lastTs + off).toBe(start + spanMs / 10);
  });

  test.each([
    ['1x', 1],
    ['10x', 10],
    ['0.5x', 0.5],
    ['25', 25],
    ['max', Infinity],
    ['MAX', Infinity],
    ['0x', undefined],
    ['-2x', undefined],
    ['fast', undefined],
    ['', undefined],
  ])('speed %j is %s', (text, want) => {
    expect(parseSpeed(text)).toBe(want);
  });
});
