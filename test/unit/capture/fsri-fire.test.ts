import { describe, expect, test } from 'vitest';
import { DETECTOR_RANGE_C } from '../../../src/capture/import/fsri-fire.js';
import { smokeKind } from '../../../src/kinds/smoke.js';
import { importReal, readingsOf } from './real-data.js';

const FIRE = 'fire_fsri_gasburner/Gas_Burner_4.csv';

describe('fsri-fire mapper', () => {
  test('one heat detector per room from the top (2.5 cm) thermocouple: 14 rooms × 1009 rows', () => {
    const r = importReal(FIRE);
    expect(r.report.rows).toBe(1009);
    expect(r.capture.header.devices.map((d) => d.device_id)).toEqual([
      'heat-bedroom-1', 'heat-bedroom-2', 'heat-bedroom-3', 'heat-bedroom-4', 'heat-end-hall', 'heat-mid-hall',
      'heat-family-room-center', 'heat-den', 'heat-living-room', 'heat-under-hall', 'heat-foyer', 'heat-dining',
      'heat-laundry', 'heat-kitchen',
    ]);
    expect(r.capture.messages).toHaveLength(14 * 1009);
    expect(r.report.defects).toEqual({});
  });

  test('events come from the events file; the family-room ceiling passes 57 °C 16 s after ignition', () => {
    const r = importReal(FIRE);
    const events = r.capture.header.events ?? [];
    expect(events.map((e) => e.label)).toEqual(['Ignition', 'Front Door Open', 'Window K Open', 'Window L Open', 'Burner Off']);
    // Time = -180 s is the first row: ignition 180 s in; 08:59:00 local (US Eastern assumed) = 13:59:00 UTC.
    expect(events[0]?.t).toBe(180_000);
    const ignition = (r.capture.header.start_ts as number) + 180_000;
    expect(ignition).toBe(Date.parse('2016-11-09T13:59:00Z'));
    const family = readingsOf(r, 'heat-family-room-center');
    const first = family.find((x) => (x.data.temperature_c as number) >= 57);
    expect((first?.ts as number) - ignition).toBe(16_000);
  });

  test('ceiling gas above the detector range is clamped to it and reported as an adjustment, not a defect', () => {
    const r = importReal(FIRE);
    expect(r.report.adjustments.above_detector_range?.count).toBe(738);
    const family = readingsOf(r, 'heat-family-room-center').map((x) => x.data.temperature_c as number);
    expect(Math.max(...family)).toBe(200);
    // The clamp equals the smoke kind's range, so no clamped value is ever rejected.
    expect(smokeKind.dataSchema.safeParse({ temperature_c: DETECTOR_RANGE_C.max }).success).toBe(true);
    expect(smokeKind.dataSchema.safeParse({ temperature_c: DETECTOR_RANGE_C.max + 0.01 }).success).toBe(false);
    expect(smokeKind.dataSchema.safeParse({ temperature_c: DETECTOR_RANGE_C.min }).success).toBe(true);
    expect(smokeKind.dataSchema.safeParse({ temperature_c: DETECTOR_RANGE_C.min - 0.01 }).success).toBe(false);
  });
});
