import { describe, expect, test } from 'vitest';
import { alarmNames, decodeMessage, locationToVehiclePayload, type LocationBody } from '../../../src/ingest/jt808/index.js';
import { vehicleKind } from '../../../src/kinds/vehicle.js';
import { validateData } from '../../../src/kinds/validate.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { openSqlite } from '../../../src/lib/sqlite.js';
import { createMetrics } from '../../../src/lib/metrics.js';
import { DeadLetterLog } from '../../../src/pipeline/dead-letters.js';
import { DEFAULT_INGEST_LIMITS, Pipeline } from '../../../src/pipeline/pipeline.js';
import type { Reading } from '../../../src/pipeline/reading.js';
import { DeviceRegistry } from '../../../src/registry/device-registry.js';
import { bj, WORKED_FRAMES } from './frames.js';

const frameC = WORKED_FRAMES.find((f) => f.name.startsWith('C '))?.frame as Buffer;

function locationC(): LocationBody {
  const res = decodeMessage(frameC);
  if (!res.ok || res.value.body.type !== 'location') throw new Error('frame C');
  return res.value.body;
}

const base: LocationBody = { alarmBits: 0, statusBits: 0b11, latE6: 30_000_000, lonE6: 104_000_000, altitudeM: 500, speedDeciKmh: 0, direction: 0, time: bj(2024, 3, 15, 10, 0, 0), extras: [] };

describe('ingest/jt808/vehicle-payload', () => {
  test('frame C maps to the README vehicle example (domain.md §5.7 C)', () => {
    expect(locationToVehiclePayload(locationC(), { seq: 3 })).toEqual({
      ts: Date.parse('2024-03-15T02:35:10+08:00'),
      seq: 3,
      data: {
        alarm_bits: 2,
        status_bits: 4980739,
        acc_on: true,
        located: true,
        lat: 30.65742,
        lon: 104.06584,
        altitude_m: 500,
        speed_kmh: 85.6,
        heading_deg: 90,
        mileage_km: 123456.7,
        signal_strength: 25,
        satellites: 12,
      },
    });
  });

  test('the payload passes the vehicle kind schema', () => {
    const v = validateData(vehicleKind, locationToVehiclePayload(locationC()).data, 'data');
    expect(v.ok).toBe(true);
  });

  test('the payload, serialised, is accepted by the real pipeline as a vehicle reading', () => {
    const db = openSqlite(':memory:');
    const registry = new DeviceRegistry(db);
    registry.start();
    registry.upsert([{ tenant: 't3', deviceId: '013912345678', kind: 'vehicle', heartbeatS: 30, attrs: {} }]);
    const readings: Reading[] = [];
    const pipeline = new Pipeline({
      registry,
      metrics: createMetrics({ defaultMetrics: false }),
      deadLetters: new DeadLetterLog(10),
      clock: new FakeClock(bj(2024, 3, 15, 2, 35, 11)),
      limits: DEFAULT_INGEST_LIMITS,
      sinks: [{ accept: (r) => void readings.push(r) }],
    });
    const payload = Buffer.from(JSON.stringify(locationToVehiclePayload(locationC(), { seq: 3 })));
    expect(pipeline.ingestDevicePayload('t3', 'vehicle', '013912345678', 'telemetry', payload, { source: 'jt808' })).toEqual({ accepted: 1, rejected: 0 });
    expect(readings[0]).toMatchObject({ ts: bj(2024, 3, 15, 2, 35, 10), seq: 3, fields: { speed_kmh: 85.6, lat: 30.65742, alarm_bits: 2, acc_on: true } });
    db.close();
  });

  test('status bits 2 and 3 put the point south and west', () => {
    const { data } = locationToVehiclePayload({ ...base, statusBits: 0b1111, latE6: 33_868_820, lonE6: 151_209_296 });
    expect([data.lat, data.lon]).toEqual([-33.86882, -151.209296]);
  });

  test('coordinates encrypted by a confidentiality plug-in (status bit5) are left out', () => {
    const { data } = locationToVehiclePayload({ ...base, statusBits: 0b10_0011 });
    expect(data.lat).toBeUndefined();
    expect(data.lon).toBeUndefined();
    expect(data.status_bits).toBe(0b10_0011);
  });

  test('an unlocated fix says so (the rules skip its speed and position)', () => {
    expect(locationToVehiclePayload({ ...base, statusBits: 0 }).data).toMatchObject({ acc_on: false, located: false });
  });

  test('an altitude word with the top bit set is below sea level (Turpan, −154 m)', () => {
    expect(locationToVehiclePayload({ ...base, altitudeM: 0x10000 - 154 }).data.altitude_m).toBe(-154);
  });

  test('every extra the kind has a field for is mapped in its unit; others are not', () => {
    const { data } = locationToVehiclePayload({
      ...base,
      extras: [
        { id: 0x02, value: 523 },
        { id: 0x03, value: 601 },
        { id: 0x25, value: 0x8000_0001 },
        { id: 0x2a, value: 0b10 },
        { id: 0x2b, value: 7 },
        { id: 0x01, raw: Buffer.from([1, 2, 3]) },
        { id: 0xe1, raw: Buffer.from('vendor') },
      ],
    });
    expect(data).toMatchObject({ fuel_l: 52.3, recorder_speed_kmh: 60.1, ext_vehicle_bits: 0x8000_0001, io_status: 2 });
    expect(data.mileage_km).toBeUndefined(); // a 3-byte 0x01 is kept raw, not guessed
    expect(validateData(vehicleKind, data, 'data').ok).toBe(true);
  });

  test('a blind-area re-upload is marked backfill', () => {
    expect(locationToVehiclePayload(base, { backfill: true }).data.backfill).toBe(true);
    expect(locationToVehiclePayload(base).data.backfill).toBeUndefined();
  });

  test('alarm names follow the edition (domain.md §5.4)', () => {
    expect(alarmNames(0b1011, 2013)).toEqual(['emergency', 'overspeed', 'danger_warning']);
    expect(alarmNames(0b1011, 2019)).toEqual(['emergency', 'overspeed', 'dangerous_driving']);
    expect(alarmNames(2 ** 31, 2013)).toEqual(['illegal_door_open']);
    expect(alarmNames(2 ** 31, 2019)).toEqual(['reserved_bit_31']);
    expect(alarmNames(1 << 16, 2019)).toEqual(['tyre_pressure_warning']);
    expect(alarmNames(1 << 16, 2013)).toEqual(['reserved_bit_16']);
  });
});
