import { afterEach, describe, expect, test } from 'vitest';
import { device, startEngineHarness, type EngineHarness } from '../../helpers/engine-harness.js';
import { MINUTE, SECOND, Trace, type EventRow } from './trace.js';

// A realistic electrical-fire trace against the shipped alert-rules/electrical_fire.yaml, asserting the exact alert
// events: residual current (E1, 300 mA), cable temperature (E2, 70 °C, clear 65) and its rate of rise (> 10 °C/min
// over ≥ 1 min, riskgate's early warning).

// The detector on a shopping mall's first-level distribution board (GB 50116 §9.2: head of the LV distribution).
const BOARD = device('jinjiang-mall', 'ef-board-1F', 'electrical_fire', { location: '1层配电间 AP1-3 出线柜' });

let h: EngineHarness | undefined;
afterEach(() => h?.close());

/**
 * Channel 2 (a loose lug on the kitchen feeder) over minutes since the start: 36 °C; from 2 min it heats 15 °C/min
 * (lunch-hour load on a high-resistance joint) to 81 °C at 5 min; creeps up 1 °C/min to 85 °C at 9 min; then the
 * electrician sheds the kitchen load and it cools 4 °C/min. The other channels and the residual current stay normal.
 */
function channel2(min: number): number {
  if (min < 2) return 36;
  if (min < 5) return 36 + 15 * (min - 2);
  if (min < 9) return 81 + (min - 5);
  return 85 - 4 * (min - 9);
}

describe('scenarios/electrical_fire', () => {
  test('a cable joint heating fast raises the rate-of-rise warning, then the 70 °C alarm; residual current stays quiet', () => {
    h = startEngineHarness({ devices: [BOARD] });
    const tr = new Trace(h);
    const t0 = tr.now;
    const leakage = [126, 131, 128, 122, 135]; // mA: natural leakage of a mall board (100–200 mA, domain.md E1)
    // A reading every 10 s for 16 min; the operator acknowledges the temperature alarm at 6 min.
    tr.every(BOARD, 10 * SECOND, 16 * MINUTE, (t, i) => {
      if (t === 6 * MINUTE) tr.h.alerts.acknowledge(tr.alertId(BOARD.deviceId, 'electrical_fire.cable_temp'), 'chen.jie', '已通知物业电工到配电间检查');
      return {
        f: {
          residual_current_ma: leakage[i % leakage.length] as number,
          temp_c_1: 34.5,
          temp_c_2: Math.round(channel2(t / MINUTE) * 10) / 10,
          temp_c_3: 33.8,
          temp_c_4: 31.2,
          arc_halfcycles_1s: 0,
        },
      };
    });
    const expected: EventRow[] = [
      // 2:50, 48.5 °C: the steepest channel rose 12.5 °C over the last 60 s (anchor 36 °C at 1:50) > 10 °C/min —
      // electrical_fire.cable_temp_rise, level 3. (At 2:40 it was exactly 10 °C/min: not more.)
      ['raised', 'electrical_fire.cable_temp_rise', 3],
      // 4:20, 71 °C: the worst channel reaches 70 °C — electrical_fire.cable_temp (E2), level 2.
      ['raised', 'electrical_fire.cable_temp', 2],
      // 5:30, 81.5 °C: over the last minute it rose 8 °C (from 73.5 at 4:30): not more than 10 °C/min — the warning
      // clears (level 3 stays open: only level 4 closes by itself).
      ['cleared', 'electrical_fire.cable_temp_rise', 3],
      // 6:00: the duty operator acknowledges the alarm.
      ['acknowledged', 'electrical_fire.cable_temp', 2],
      // 14:10, 64.3 °C: below the clear point 65 °C (65.7 and 65 were held by hysteresis) — cleared, not closed.
      ['cleared', 'electrical_fire.cable_temp', 2],
    ];
    expect(tr.rows(BOARD.deviceId)).toEqual(expected);
    // When (s after the start) and at which value (°C/min for the rate, °C for the threshold):
    expect(tr.eventsOf(BOARD.deviceId).map((e) => [(e.at - t0) / SECOND, e.alert.last_value])).toEqual([
      [170, 12.5], // °C/min
      [260, 71],
      [330, 8],
      [360, 81.8], // the worst channel at 5:50, the latest reading before the acknowledgement
      [850, 64.3],
    ]);
    // Residual current 122–135 mA never approached 300 mA (E1): no alert of that rule at all.
    expect(tr.h.events.filter((e) => e.alert.rule_id === 'electrical_fire.residual_current')).toEqual([]);
    expect(tr.h.alerts.get(tr.alertId(BOARD.deviceId, 'electrical_fire.cable_temp'))).toMatchObject({ condition: 'cleared', handling: 'acknowledged', peak_value: 85 });
  });
});
