import { describe, expect, test } from 'vitest';
import { importReal, readingsOf } from './real-data.js';

const VALVE = 'electrical_skab/valve1_files0-7_2020-03-09_1014-1254.csv';
const HOT = 'electrical_skab/other23_hot_water_supply_2020-02-08.csv';

describe('skab mapper', () => {
  test('valve1: current/voltage swaps and a bogus voltage are flagged by line and skipped; the joins between files are gaps', () => {
    const r = importReal(VALVE);
    expect(r.report.rows).toBe(9014);
    expect(r.report.defects.swapped_current_voltage).toMatchObject({ count: 10, lines: [736, 768, 1536, 2002, 3864, 5088, 6224, 7567, 8590, 8811] });
    // The README counts 11 swapped rows; line 526 has Current 1.105 A and Voltage 1.087 V — a bad voltage, not a swap.
    expect(r.report.defects.implausible_voltage).toMatchObject({ count: 1, lines: [526] });
    expect(r.report.defects.gap).toMatchObject({ count: 3, lines: [2861, 5157, 8923] });
    expect(r.capture.messages).toHaveLength(9014 - 11);
    const readings = readingsOf(r, 'skab-valve1-pump');
    for (const x of readings) expect(((x.data.voltage_v as { a: number }).a)).toBeGreaterThan(100);
    // 2020-03-09 10:14:33 Moscow time (UTC+3).
    expect(r.capture.header.start_ts).toBe(Date.parse('2020-03-09T07:14:33Z'));
    expect(readings[0]?.data).toEqual({ current_a: { a: 1.33 }, voltage_v: { a: 233.06 }, temp_c: [79.34] });
  });

  test('the labelled anomaly episodes become events: 8 in valve1, 1 in the hot-water run', () => {
    expect(importReal(VALVE).capture.header.events?.filter((e) => /anomaly/.test(e.label))).toHaveLength(8);
    const hot = importReal(HOT);
    expect(hot.report.defects).toEqual({});
    expect(hot.capture.messages).toHaveLength(1044);
    expect(hot.capture.header.events?.filter((e) => /anomaly/.test(e.label))).toEqual([{ t: 600_000, t_end: 917_000, label: 'SKAB anomaly (labelled fault)' }]);
  });
});
