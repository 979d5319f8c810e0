import { afterEach, describe, expect, test } from 'vitest';
import { device, startEngineHarness, type EngineHarness } from '../../helpers/engine-harness.js';
import { beijing, HOUR, MINUTE, SECOND, Trace, type EventRow } from './trace.js';

// A realistic hazmat-truck night trip against the shipped alert-rules/vehicle.yaml, asserting the exact alert events.
// Device times are Beijing time (what a JT/T 808 terminal's BCD time means, domain.md §0); the rules' windows are too.

// A tanker registered in 成都 (region 510100 → the hazmat 02:00–05:00 window for prefix 5101 applies).
const TANKER = device('shudao-hazmat', 'veh-chuanA-D1234', 'vehicle', { region: '510100', heartbeatS: 30, attrs: { vehicle_class: 'hazmat', plate: '川A·D1234' } });

let h: EngineHarness | undefined;
afterEach(() => h?.close());

const REPORT_MS = 10 * SECOND; // 0x0200 interval while driving (两客一危 terminals commonly 10–30 s)
const PARKED_MS = MINUTE; // … and while parked with ACC off
const HEADING_DEG = 35; // north-east out of 成都 along G5, clear of the 春熙路 geofence

/** Dead reckoning along a straight line from the depot: each fix moves the truck by speed × the report interval. */
class Route {
  private lat = 30.75;
  private lon = 104.2;
  private km = 48_215.3;

  fix(speedKmh: number, intervalMs: number, opts: { alarmBits?: number; accOn?: boolean } = {}) {
    const f = {
      lat: Math.round(this.lat * 1e6) / 1e6,
      lon: Math.round(this.lon * 1e6) / 1e6,
      speed_kmh: speedKmh,
      heading_deg: HEADING_DEG,
      acc_on: opts.accOn ?? true,
      located: true,
      alarm_bits: opts.alarmBits ?? 0,
      mileage_km: Math.round(this.km * 10) / 10,
    };
    const km = (speedKmh * intervalMs) / HOUR;
    const rad = (HEADING_DEG * Math.PI) / 180;
    this.km += km;
    this.lat += (km * Math.cos(rad)) / 111.0;
    this.lon += (km * Math.sin(rad)) / 95.6; // km per degree of longitude at ~31° N
    return { f };
  }
}

/** Expressway cruising for a hazmat truck: 60–76 km/h, a slow swell with the gradient (under the 80 km/h limit). */
const cruise = (sinceMs: number): number => 68 + Math.round(8 * Math.sin(sinceMs / (7 * MINUTE)));

describe('scenarios/vehicle', () => {
  test('a hazmat trip from 21:30 overspeeds, sends an SOS, drives 4 h without rest into the 02:00 ban, then rests', () => {
    h = startEngineHarness({ devices: [TANKER], startMs: beijing(2025, 3, 15, 21, 30) });
    const tr = new Trace(h);
    const route = new Route();
    const t0 = tr.now;
    const drive = (untilMs: number, speed: (i: number) => number = () => cruise(tr.now - t0)): void => {
      tr.every(TANKER, REPORT_MS, untilMs - (tr.now - t0), (_t, i) => route.fix(speed(i), REPORT_MS), REPORT_MS);
    };
    const ack = (ruleId: string, note: string): void => {
      tr.h.alerts.acknowledge(tr.alertId(TANKER.deviceId, ruleId), 'zhao.lei', note);
    };

    drive(90 * MINUTE); // 21:30–23:00
    const burst = [84, 88, 91, 95, 90, 86, 79, 74]; // 23:00:00–23:01:10, overtaking downhill
    drive(90 * MINUTE + burst.length * REPORT_MS, (i) => burst[i] as number);
    drive(131 * MINUTE); // → 23:41
    tr.send(TANKER, route.fix(70, REPORT_MS, { alarmBits: 0b1 })); // 23:41:00 SOS button (bit0)
    tr.wait(REPORT_MS, REPORT_MS);
    drive(133 * MINUTE); // → 23:43: the monitor has called the driver — pressed by mistake
    const sos = tr.alertId(TANKER.deviceId, 'vehicle.alarm_emergency');
    tr.h.alerts.acknowledge(sos, 'zhao.lei', '已电话联系驾驶员');
    tr.h.alerts.close(sos, 'zhao.lei', 'false_alarm', '驾驶员误触一键报警按钮，车辆及人员正常');
    drive(4 * HOUR + 2 * MINUTE); // → 01:32
    ack('vehicle.fatigue_driving', '已电话提醒驾驶员就近服务区停车休息');
    drive(4 * HOUR + 32 * MINUTE); // → 02:02
    ack('vehicle.banned_hours', '已告知驾驶员禁行时段，要求立即停车');
    drive(4 * HOUR + 40 * MINUTE); // → 02:10, into the 剑阁 service area
    tr.every(TANKER, PARKED_MS, 50 * MINUTE, () => route.fix(0, PARKED_MS, { accOn: false }), REPORT_MS); // parked to 03:00

    const expected: EventRow[] = [
      // 23:00:10 (88 km/h): over the hazmat limit 80 (T7) since 23:00:00 (84) — vehicle.overspeed's `for: 10s` held.
      ['raised', 'vehicle.overspeed', 3],
      // 23:01:10 (74 km/h): below limit − clear_margin (75; 79 at 23:01:00 was held) — cleared; level 3 stays open.
      ['cleared', 'vehicle.overspeed', 3],
      // 23:41:00 alarm_bits bit0 (emergency, JT/T 808 §5.4) — vehicle.alarm_emergency, level 1 (§7.2).
      ['raised', 'vehicle.alarm_emergency', 1],
      // 23:41:10 the terminal cleared the ack-clear bit: alarm_bits 0 — cleared, still open (level 1: a person closes).
      ['cleared', 'vehicle.alarm_emergency', 1],
      // 23:43 the monitor (动态监控员) called the driver: acknowledged, then closed as a false alarm (闭环, §7.3).
      ['acknowledged', 'vehicle.alarm_emergency', 1],
      ['closed', 'vehicle.alarm_emergency', 1],
      // 01:30:10: driving since 21:30 without a 20 min stop, the stint is over 4 h (strictly; at 01:30:00 it was
      // exactly 4 h) — vehicle.fatigue_driving (T1, continuous_driving), hazmat level 2.
      ['raised', 'vehicle.fatigue_driving', 2],
      // 01:32 the monitor acknowledges it (no escalation at 01:40, level 2's 10 min deadline).
      ['acknowledged', 'vehicle.fatigue_driving', 2],
      // 02:01:00: moving (> 5 km/h) inside the hazmat 02:00–05:00 window for region 5101 since 02:00:00 for the
      // rule's `for: 60s` — vehicle.banned_hours, level 2 (§7.2 hazmat moving in a banned window).
      ['raised', 'vehicle.banned_hours', 2],
      ['acknowledged', 'vehicle.banned_hours', 2],
      // 02:10:00 stopped (speed 0): no longer moving in the window — cleared.
      ['cleared', 'vehicle.banned_hours', 2],
      // 02:30:00: stopped since the last moving fix at 02:09:50 for ≥ 20 min (T1's rest) — the stint resets, cleared.
      ['cleared', 'vehicle.fatigue_driving', 2],
    ];
    expect(tr.rows(TANKER.deviceId)).toEqual(expected);
    const clock = (ms: number): string => new Date(ms + 8 * HOUR).toISOString().slice(11, 19);
    expect(tr.eventsOf(TANKER.deviceId).map((e) => [clock(e.at), e.alert.title])).toEqual([
      ['23:00:10', '超速报警(限速80km/h)'],
      ['23:01:10', '超速报警(限速80km/h)'],
      ['23:41:00', '紧急报警(一键报警)'],
      ['23:41:10', '紧急报警(一键报警)'],
      ['23:43:00', '紧急报警(一键报警)'],
      ['23:43:00', '紧急报警(一键报警)'],
      ['01:30:10', '连续驾驶超过4小时'],
      ['01:32:00', '连续驾驶超过4小时'],
      ['02:01:00', '危险货物运输车辆禁行时段行驶'],
      ['02:02:00', '危险货物运输车辆禁行时段行驶'],
      ['02:10:00', '危险货物运输车辆禁行时段行驶'],
      ['02:30:00', '连续驾驶超过4小时'],
    ]);
    // The worst speed and the longest stint (minutes) the alerts kept:
    expect(tr.h.alerts.get(tr.alertId(TANKER.deviceId, 'vehicle.overspeed'))).toMatchObject({ peak_value: 95, condition: 'cleared' });
    expect(tr.h.alerts.get(tr.alertId(TANKER.deviceId, 'vehicle.fatigue_driving'))).toMatchObject({ peak_value: 280, condition: 'cleared', handling: 'acknowledged' });
  });
});
