import { afterEach, describe, expect, test } from 'vitest';
import { device, startEngineHarness, type EngineHarness } from '../../helpers/engine-harness.js';
import { beijing, HOUR, MINUTE, SECOND, Trace, type EventRow } from './trace.js';

// A realistic dust-collector trace against the shipped alert-rules/dust.yaml, asserting the exact alert events.

// A bag-filter collector at a furniture factory's sanding line, bags changed the evening before.
const COLLECTOR = device('shufeng-furniture', 'dust-bag-02', 'dust', { location: '2#布袋除尘器', attrs: { bag_changed_at: '2025-03-14' } });

let h: EngineHarness | undefined;
afterEach(() => h?.close());

/** Pulse-jet cleaning makes ΔP a sawtooth; this one averages exactly 1000 Pa over each period of 5 readings. */
const SAWTOOTH_PA = [980, 990, 1000, 1010, 1020];

interface Plant {
  diffPa: number;
  hopperC: number;
  sparks: number;
}

const reading = (p: Plant) => ({
  f: {
    fan_running: true,
    unloader_running: true,
    diff_pressure_pa: p.diffPa,
    inlet_temp_c: 38.5,
    hopper_temp_c: p.hopperC,
    // The spark detector reports a count per interval; the kind maps it to spark_detected (+ spark_count).
    spark_detected: p.sparks > 0,
    spark_count: p.sparks,
  },
});

describe('scenarios/dust', () => {
  test('a collector learns its ΔP baseline, clogs past 20 %, its hopper overheats and a spark makes it level 1', () => {
    h = startEngineHarness({ devices: [COLLECTOR], startMs: beijing(2025, 3, 15, 7, 0) });
    const tr = new Trace(h);
    // 07:00–15:00, a reading a minute: dust.diff_pressure_deviation learns the mean ΔP of the first 8 h (baseline_window)
    // with the fan running — AQ 4273-2016 §5.1.4 b). While learning it says nothing.
    const learned = tr.every(COLLECTOR, MINUTE, 8 * HOUR, (_t, i) => reading({ diffPa: SAWTOOTH_PA[i % 5] as number, hopperC: 36, sparks: 0 }), 10 * SECOND);
    expect(learned).toBe(480);
    // 15:00–15:30: normal running against the learned 1000 Pa (± 2 %): still nothing.
    tr.every(COLLECTOR, MINUTE, 30 * MINUTE, (_t, i) => reading({ diffPa: SAWTOOTH_PA[i % 5] as number, hopperC: 36, sparks: 0 }), 10 * SECOND);
    expect(tr.rows(COLLECTOR.deviceId)).toEqual([]);

    // 15:30: damp sawdust blinds the bags — ΔP climbs 20 Pa/min and the pulses no longer bring it down; 5 min later
    // smouldering dust in the hopper starts heating it by 3 °C/min. At 15:49 a spark is detected in the duct.
    const t0 = tr.now;
    tr.every(COLLECTOR, MINUTE, 22 * MINUTE, (t) => {
      const min = t / MINUTE;
      return reading({ diffPa: Math.min(1300, 1000 + 20 * min), hopperC: 36 + 3 * Math.max(0, min - 5), sparks: min === 19 ? 3 : 0 });
    });
    const expected: EventRow[] = [
      // 15:43, 1260 Pa (26 %): more than deviation_pct 20 % off the baseline since 15:41 (1220 Pa; 1200 is exactly
      // 20 %, not more), for the rule's `for: 2m` — AQ 4273-2016 §5.1.4 b), domain.md D2, level 3.
      ['raised', 'dust.diff_pressure_deviation', 3],
      // 15:47, 72 °C: dust.hopper_temp (D3, 70 °C by analogy with the inlet limit), level 2.
      ['raised', 'dust.hopper_temp', 2],
      // 15:49, a spark: dust.spark (D4) at level 2, and — in the same reading, hopper at 78 °C ≥ 70 — the expression
      // dust.spark_hot_hopper `spark_detected && hopper_temp_c >= 70` at level 1 (domain.md §7.2).
      ['raised', 'dust.spark', 2],
      ['raised', 'dust.spark_hot_hopper', 1],
      // 15:50, no spark in the next interval: both state/expression rules clear; level 1–2 alerts stay open (§7.3).
      ['cleared', 'dust.spark', 2],
      ['cleared', 'dust.spark_hot_hopper', 1],
    ];
    expect(tr.rows(COLLECTOR.deviceId)).toEqual(expected);
    const events = tr.eventsOf(COLLECTOR.deviceId);
    expect(events.map((e) => [(e.at - t0) / MINUTE, e.alert.last_value])).toEqual([
      [13, 26], // % deviation
      [17, 72], // °C
      [19, null], // a boolean state has no value
      [19, 78], // value_field hopper_temp_c
      [20, null],
      [20, 81],
    ]);
    // The hopper is still hot and ΔP still high: those two alerts are active.
    expect(tr.h.alerts.openAlert(COLLECTOR.tenant, COLLECTOR.deviceId, 'dust.hopper_temp')).toMatchObject({ condition: 'active', last_value: 84 });
    expect(tr.h.alerts.openAlert(COLLECTOR.tenant, COLLECTOR.deviceId, 'dust.diff_pressure_deviation')).toMatchObject({ condition: 'active', last_value: 30 });
    expect(tr.h.alerts.openAlert(COLLECTOR.tenant, COLLECTOR.deviceId, 'dust.spark_hot_hopper')).toMatchObject({ condition: 'cleared', handling: 'new' });
  });
});
