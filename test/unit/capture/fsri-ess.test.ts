import { describe, expect, test } from 'vitest';
import { CH4_PPM_PER_LEL, ESS_NOMINAL_START_MS, exhaustFlowLpm, H2_PPM_PER_LEL } from '../../../src/capture/import/fsri-ess.js';
import { importReal, readingsOf } from './real-data.js';

const ESS = 'gas_fsri_ess_cell/Cell_Level_Experiment_t0000-2999.csv';

describe('fsri-ess mapper', () => {
  test('three gas detectors, one reading each per second, at a nominal start (the source has no wall clock)', () => {
    const r = importReal(ESS);
    expect(r.report.rows).toBe(3000);
    expect(r.capture.header.devices.map((d) => d.device_id)).toEqual(['ess-thc', 'ess-h2', 'ess-co']);
    expect(r.capture.messages).toHaveLength(9000);
    expect(r.capture.header.start_ts).toBe(ESS_NOMINAL_START_MS);
    expect(r.capture.header.events).toEqual([
      { t: 1_701_000, label: 'Thermal Runaway' },
      { t: 1_739_000, label: 'Flaming' },
    ]);
  });

  test('THC ppm is methane-equivalent %LEL (÷ 500): the 489.9 ppm peak is 0.98 %LEL, at t = 1715 s', () => {
    expect(CH4_PPM_PER_LEL).toBe(500);
    expect(H2_PPM_PER_LEL).toBe(400);
    const thc = readingsOf(importReal(ESS), 'ess-thc');
    const peak = thc.reduce((a, b) => ((b.data.concentration_lel as number) > (a.data.concentration_lel as number) ? b : a));
    expect(peak.data).toEqual({ gas_type: 'CH4', concentration_lel: 0.98 });
    expect(peak.ts - ESS_NOMINAL_START_MS).toBe(1_715_000);
  });

  test('CO and H2 flows become ppm through the estimated exhaust flow (≈ 2.1 m³/s); CO peaks above 1000 ppm after the runaway', () => {
    const r = importReal(ESS);
    expect(r.report.notes.join(' ')).toMatch(/exhaust flow estimated at 125\d{3} L\/min/);
    const co = readingsOf(r, 'ess-co');
    const before = co.filter((x) => x.ts < ESS_NOMINAL_START_MS + 1_701_000).map((x) => x.data.concentration_ppm as number);
    expect(Math.max(...before)).toBeLessThan(24); // background: no CO alarm before the runaway
    expect(Math.max(...co.map((x) => x.data.concentration_ppm as number))).toBeGreaterThan(1000);
    const h2 = readingsOf(r, 'ess-h2').map((x) => x.data.concentration_lel as number);
    expect(Math.max(...h2)).toBeGreaterThan(1);
    expect(Math.max(...h2)).toBeLessThan(5);
    // The H2 analyser's zero drifts below 0 (down to -31.8 L/min): a real defect, clamped to 0 ppm.
    expect(r.report.defects.h2_negative_flow?.count).toBe(2717);
    expect(Math.min(...h2)).toBe(0);
  });

  test('the exhaust flow needs at least 10 rows above background', () => {
    expect(exhaustFlowLpm([{ thcPpm: 100, thcFlowLpm: 12 }])).toBeUndefined();
    const rows = Array.from({ length: 11 }, (_, i) => ({ thcPpm: 100, thcFlowLpm: 12 + i / 100 }));
    expect(exhaustFlowLpm(rows)).toBeCloseTo(120_500, 0);
  });
});
