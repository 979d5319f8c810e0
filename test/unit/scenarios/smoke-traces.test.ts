import { afterEach, describe, expect, test } from 'vitest';
import { device, startEngineHarness, type EngineHarness } from '../../helpers/engine-harness.js';
import { MINUTE, Trace, type EventRow } from './trace.js';

// A realistic networked smoke alarm trace against the shipped alert-rules/smoke.yaml, asserting the exact alert events.

// A battery NB-IoT smoke alarm in a hostel room: event-driven uplinks plus a status report every 4 h (domain.md §4.4).
const ALARM = device('wuhou-hostel', 'smoke-0312', 'smoke', { location: '3层312房', heartbeatS: 4 * 3600 });
// The hostel's gas detector reports every minute: the gateway keeps receiving while the smoke alarm is quiet, so the
// ingest-stall watchdog (2 min without any reading) stays calm without turning it off.
const KITCHEN_GAS = device('wuhou-hostel', 'gas-kitchen', 'gas', { location: '1层厨房' });

let h: EngineHarness | undefined;
afterEach(() => h?.close());

interface Status {
  alarm: boolean;
  fault: boolean;
  lowBattery: boolean;
  batteryPct: number;
  smokeDbM: number;
}

/** A full status frame, as these devices send on every event. */
const frame = (s: Status) => ({
  f: { alarm: s.alarm, fault: s.fault, low_battery: s.lowBattery, battery_pct: s.batteryPct, smoke_db_m: s.smokeDbM, temperature_c: 23.5 },
});

describe('scenarios/smoke', () => {
  test('a fault and a low battery are level 4, a fire alarm level 2, and the fault closes itself when it clears', () => {
    h = startEngineHarness({ devices: [ALARM, KITCHEN_GAS] });
    const tr = new Trace(h, [{ device: KITCHEN_GAS, everyMs: MINUTE, sample: { f: { concentration_lel: 0 }, t: { gas_type: 'CH4' } } }]);
    const s: Status = { alarm: false, fault: false, lowBattery: false, batteryPct: 24, smokeDbM: 0.02 };
    const at = (waitMin: number, change: Partial<Status>): void => {
      tr.wait(waitMin * MINUTE);
      Object.assign(s, change);
      tr.send(ALARM, frame(s));
    };
    tr.send(ALARM, frame(s)); // 14:00 status report: all normal (24 % is above the 20 % low-battery point)
    at(3, { fault: true }); // 14:03 fault (e.g. chamber self-check failed)
    at(7, { lowBattery: true, batteryPct: 18 }); // 14:10 the 3 V cell sags
    at(5, { alarm: true, smokeDbM: 0.31 }); // 14:15 smoke in the room: 火警
    at(3, { fault: false }); // 14:18 the fault clears (alarm and low battery still on)
    tr.wait(2 * MINUTE);

    const expected: EventRow[] = [
      // 14:03 fault: true — smoke.fault (domain.md §4.3, §7.2 faults = level 4).
      ['raised', 'smoke.fault', 4],
      // 14:10 in one frame, in rule-file order: battery_pct 18 ≤ 20 — smoke.battery_low (threshold below, level 4);
      // low_battery: true — smoke.battery_undervoltage (GB 20517-2025 §5.11.1, level 4).
      ['raised', 'smoke.battery_low', 4],
      ['raised', 'smoke.battery_undervoltage', 4],
      // 14:15 alarm: true — smoke.alarm, a single unconfirmed fire alarm = level 2 (橙, §7.2). The repeated fault and
      // low-battery values only update their alerts' counts.
      ['raised', 'smoke.alarm', 2],
      // 14:18 fault: false — smoke.fault clears, and level 4 is in ALERT_AUTO_CLOSE_LEVELS (default 4): closed by
      // the system as auto_resolved.
      ['cleared', 'smoke.fault', 4],
      ['closed', 'smoke.fault', 4],
    ];
    expect(tr.rows(ALARM.deviceId)).toEqual(expected);
    expect(tr.eventsOf(ALARM.deviceId).at(-1)?.alert).toMatchObject({ disposition: 'auto_resolved', closed_by: 'system', count: 3 });
    expect(tr.h.alerts.openAlert(ALARM.tenant, ALARM.deviceId, 'smoke.alarm')).toMatchObject({ condition: 'active', handling: 'new', title: '烟雾火警' });
    expect(tr.h.alerts.openAlert(ALARM.tenant, ALARM.deviceId, 'smoke.battery_undervoltage')).toMatchObject({ condition: 'active', count: 3 });
    // Nothing else happened anywhere (no ingest-stall alert, no offline alert, nothing from the gas detector).
    expect(tr.h.events).toHaveLength(expected.length);
  });
});
