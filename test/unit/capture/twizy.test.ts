import { describe, expect, test } from 'vitest';
import { OVERSPEED_HOLD_MS } from '../../../src/capture/import/twizy.js';
import { importReal, readingsOf } from './real-data.js';

const T1 = 'vehicle_rsk_twizy/T1_06_30_2021_1.csv';
const T3 = 'vehicle_rsk_twizy/T3_04_22_2021_2.csv';

describe('twizy mapper', () => {
  test('T1: every row becomes one reading of one vehicle, in Morocco summer time (UTC+1)', () => {
    const r = importReal(T1);
    expect(r.mapper.name).toBe('twizy');
    expect(r.report.rows).toBe(5200);
    expect(r.capture.messages).toHaveLength(5200);
    expect(r.capture.header.devices).toEqual([expect.objectContaining({ tenant: 'rsk-twizy', device_id: 'twizy-t1_06_30_2021_1', kind: 'vehicle', attrs: expect.objectContaining({ vehicle_class: 'car' }) })]);
    // 06/30/2021 13:30:32 local (line 2) = 12:30:32 UTC.
    expect(r.capture.header.start_ts).toBe(Date.parse('2021-06-30T12:30:32Z'));
    expect(r.capture.messages.at(-1)?.t).toBe(5199_000);
  });

  test('T1: the 34 garbage dates (03/00/2000, 30/00/2006) are flagged with their lines and kept as unlocated readings', () => {
    const r = importReal(T1);
    const d = r.report.defects.garbage_date;
    expect(d?.count).toBe(34);
    expect(d?.lines.slice(0, 3)).toEqual([233, 234, 235]);
    expect(r.capture.header.import).toMatchObject({ defects: { garbage_date: 34, gnss_gap: 2 } });
    // The GNSS outages the README calls logging gaps: 13:34:22 → 13:34:42 and 14:10:27 → 14:10:43.
    expect(r.report.defects.gnss_gap).toMatchObject({ count: 2, lines: [233, 2398] });
    const readings = readingsOf(r, 'twizy-t1_06_30_2021_1');
    const unlocated = readings.filter((x) => x.data.located === false);
    expect(unlocated).toHaveLength(34);
    for (const x of unlocated) {
      expect(x.data).not.toHaveProperty('lat');
      expect(x.data).toHaveProperty('speed_kmh');
    }
    // Line 233 (03/00/2000 13:34:23) follows line 232 (06/30/2021 13:34:22) by one second.
    expect((readings[231] as { ts: number }).ts - (readings[230] as { ts: number }).ts).toBe(1000);
  });

  test('the terminal overspeed bit follows the posted limit: set after 10 s above it, cleared at or below it', () => {
    for (const [file, episodes] of [[T1, 9], [T3, 7]] as const) {
      const r = importReal(file);
      expect(r.capture.header.events, file).toHaveLength(episodes);
      const readings = readingsOf(r, r.capture.header.devices[0]?.device_id as string);
      const rows = r.capture.messages.length;
      expect(readings).toHaveLength(rows);
      let risings = 0;
      readings.forEach((x, i) => {
        const prev = readings[i - 1];
        if (x.data.alarm_bits === 2 && prev?.data.alarm_bits !== 2) risings++;
      });
      expect(risings).toBe(episodes);
      for (const e of r.capture.header.events ?? []) expect((e.t_end ?? e.t) - e.t).toBeGreaterThanOrEqual(OVERSPEED_HOLD_MS);
    }
    expect(importReal(T1).report.notes.join(' ')).toContain('rows with Speed > SpeedLimit: 194, more than 10 % over: 64');
    expect(importReal(T3).report.notes.join(' ')).toContain('rows with Speed > SpeedLimit: 179, more than 10 % over: 67');
  });

  test('T3 (Ramadan 2021, Morocco on UTC+0) has no defects', () => {
    const r = importReal(T3);
    expect(r.report.rows).toBe(1098);
    expect(r.report.defects).toEqual({});
    expect(r.capture.header.start_ts).toBe(Date.parse('2021-04-22T09:02:42Z'));
    expect(Math.max(...readingsOf(r, 'twizy-t3_04_22_2021_2').map((x) => x.data.speed_kmh as number))).toBe(82.69); // README: 82.7
  });
});
