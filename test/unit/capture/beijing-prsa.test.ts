import { describe, expect, test } from 'vitest';
import { importReal, readingsOf } from './real-data.js';

const PRSA = 'dust_beijing_prsa/PRSA_6urban_2015-11-15_to_2016-01-14.csv';

describe('beijing-prsa mapper', () => {
  test('the whole file: six stations, PM10 = NA station-hours flagged and skipped, nothing else wrong', () => {
    const r = importReal(PRSA);
    expect(r.report.rows).toBe(8784);
    expect(r.capture.header.devices.map((d) => d.device_id).sort()).toEqual(
      ['pm-aotizhongxin', 'pm-dongsi', 'pm-guanyuan', 'pm-nongzhanguan', 'pm-tiantan', 'pm-wanshouxigong'],
    );
    expect(r.report.defects).toEqual({ missing_pm10: expect.objectContaining({ count: 120 }) });
    expect(r.capture.messages).toHaveLength(8784 - 120);
    expect(r.report.notes.join(' ')).toMatch(/more than the gateway's default INGEST_MAX_AGE_MS/);
  });

  test('the committed window (2015-11-26 … 12-01, Beijing time): µg/m³ → mg/m³, hour 0 at UTC+8', () => {
    const r = importReal(PRSA, { from: '2015-11-26', to: '2015-12-01' });
    expect(r.report.excluded['outside --from/--to']).toBe(7920);
    expect(r.report.defects.missing_pm10).toMatchObject({ count: 5, lines: [1686, 2220, 2316, 2404, 2410] });
    expect(r.capture.messages).toHaveLength(6 * 6 * 24 - 5);
    expect(r.capture.header.start_ts).toBe(Date.parse('2015-11-26T00:00:00+08:00'));
    const w = readingsOf(r, 'pm-wanshouxigong');
    // Line 2255: 2015,11,30,15,…,PM10 704 → 0.704 mg/m³ at 15:00 Beijing time.
    expect(w.find((x) => x.ts === Date.parse('2015-11-30T15:00:00+08:00'))?.data).toEqual({ dust_conc_mgm3: 0.704 });
  });

  test('--every thins whole hours (all six stations of an hour stay together) and says so', () => {
    const r = importReal(PRSA, { from: '2015-11-26', to: '2015-11-26', every: 2 });
    const hours = [...new Set(r.capture.messages.map((m) => m.t / 3_600_000))];
    expect(hours).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
    // Six stations per kept hour, less the station-hours whose PM10 is missing.
    expect(r.capture.messages.length).toBe(12 * 6 - (r.report.defects.missing_pm10?.count ?? 0));
    expect(r.report.notes.join(' ')).toContain('--every 2');
  });
});
