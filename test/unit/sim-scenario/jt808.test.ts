import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { BATCH_TYPE, decodeMessage, encodeMessage, locationToVehiclePayload, vehiclePhone, type Jt808Body, type LocationBody } from '../../../src/ingest/jt808/index.js';
import { deviceFromInput, DEVICE_INPUT_SCHEMA } from '../../../src/registry/device-registry.js';
import {
  loadScenarioFile,
  ScenarioJt808Converter,
  scenarioJt808Phones,
  scenarioJt808SeedYaml,
  scenarioMessages,
  scenarioReadings,
  vehicleDataToLocation,
  type Jt808Difference,
  type ScenarioMessage,
} from '../../../src/sim/scenario/index.js';
import { scenarioOf } from './fixture.js';

const TS = Date.parse('2025-03-15T14:00:00Z'); // 22:00 Beijing

/** Through the codec, as the gateway gets it: encode a 0x0200 (2013 and 2019 headers), decode it, map it. */
function overTheWire(body: LocationBody, version: 2013 | 2019 = 2013): ReturnType<typeof locationToVehiclePayload> {
  const frame = encodeMessage({ version, phone: '013912340001', seq: 7, protocolVersion: version === 2019 ? 1 : undefined }, { type: 'location', ...body });
  const msg = decodeMessage(frame);
  if (!msg.ok) throw new Error(msg.error.message);
  if (msg.value.body.type !== 'location') throw new Error(`decoded a ${msg.value.body.type}`);
  return locationToVehiclePayload(msg.value.body, { seq: msg.value.header.seq });
}

const kinds = (diffs: readonly Jt808Difference[]): string[] => diffs.map((d) => `${d.field} ${d.kind}`).sort();

describe('sim/scenario jt808: a scenario vehicle reading → 0x0200 → locationToVehiclePayload', () => {
  test('every mapped field comes back exactly, through the codec, in both editions', () => {
    const data = {
      alarm_bits: ((1 << 0) | (1 << 20) | (1 << 31)) >>> 0,
      status_bits: (1 << 0) | (1 << 1) | (1 << 18) | (1 << 19),
      acc_on: true,
      located: true,
      lat: 30.750123,
      lon: 104.200456,
      altitude_m: 512,
      speed_kmh: 68.3,
      heading_deg: 35,
      mileage_km: 48215.3,
      fuel_l: 212.5,
      recorder_speed_kmh: 67.9,
      ext_vehicle_bits: 0x8000_0001,
      io_status: 3,
      signal_strength: 27,
      satellites: 14,
    };
    const loc = vehicleDataToLocation(data, TS);
    expect(loc.differences).toEqual([]);
    expect(loc.backfill).toBe(false);
    expect(loc.body).toMatchObject({ latE6: 30_750_123, lonE6: 104_200_456, speedDeciKmh: 683, direction: 35, altitudeM: 512, time: TS });
    for (const version of [2013, 2019] as const) {
      const p = overTheWire(loc.body, version);
      expect(p.ts).toBe(TS);
      expect(p.data).toEqual(data);
    }
  });

  test('southern / western hemisphere and below sea level: status bits 2/3 and a two’s-complement altitude', () => {
    const data = { lat: -33.868_82, lon: -70.123_456, altitude_m: -154, speed_kmh: 12.5, heading_deg: 270, alarm_bits: 0, acc_on: true, located: true };
    const loc = vehicleDataToLocation(data, TS);
    expect(loc.body.statusBits & 0b1100).toBe(0b1100);
    expect(loc.body.altitudeM).toBe(0x10000 - 154);
    const p = overTheWire(loc.body);
    expect(p.data).toMatchObject(data);
    // The scenario gave no status word: the one 0x0200 carries is the only difference.
    expect(loc.differences).toEqual([expect.objectContaining({ field: 'status_bits', kind: 'filled', scenario: undefined, jt808: 0b1111 })]);
  });

  test('a status word whose hemisphere bits contradict the coordinates is rebuilt, and said so', () => {
    const loc = vehicleDataToLocation({ lat: 30.5, lon: 104, status_bits: 0b0111, speed_kmh: 0, heading_deg: 0, alarm_bits: 0, altitude_m: 0 }, TS);
    expect(loc.body.statusBits).toBe(0b0011);
    expect(loc.differences).toEqual([expect.objectContaining({ field: 'status_bits', kind: 'changed', scenario: 7, jt808: 3 })]);
  });

  test('explicit acc_on / located win over status_bits (as the kind reads them): the bits are set from them', () => {
    const loc = vehicleDataToLocation({ status_bits: 3, acc_on: false, lat: 30, lon: 104, speed_kmh: 0, heading_deg: 0, alarm_bits: 0, altitude_m: 0 }, TS);
    expect(loc.body.statusBits).toBe(2);
    expect(overTheWire(loc.body).data).toMatchObject({ acc_on: false, located: true, status_bits: 2 });
    expect(kinds(loc.differences)).toEqual(['status_bits changed']);
  });

  test('a minimal reading: the base fields 0x0200 always carries are filled, no position = status bit5, so lat/lon stay absent', () => {
    const loc = vehicleDataToLocation({ speed_kmh: 50 }, TS);
    expect(loc.body.statusBits).toBe(0b10_0011);
    const p = overTheWire(loc.body);
    expect(p.data.lat).toBeUndefined();
    expect(p.data.lon).toBeUndefined();
    expect(p.data.speed_kmh).toBe(50);
    expect(kinds(loc.differences)).toEqual(['acc_on filled', 'alarm_bits filled', 'altitude_m filled', 'heading_deg filled', 'located filled', 'status_bits filled']);
    for (const d of loc.differences) expect(d.note.length).toBeGreaterThan(10);
  });

  test('a base field a reading omits repeats the vehicle’s last value (a terminal repeats its alarms and position)', () => {
    const first = vehicleDataToLocation({ speed_kmh: 40, lat: 30.1, lon: 104.1, alarm_bits: 1, status_bits: 3, heading_deg: 90, altitude_m: 480 }, TS);
    const second = vehicleDataToLocation({ speed_kmh: 42 }, TS + 60_000, first.state);
    expect(second.body).toMatchObject({ alarmBits: 1, statusBits: 3, latE6: 30_100_000, lonE6: 104_100_000, direction: 90, altitudeM: 480, speedDeciKmh: 420 });
    expect(second.differences.find((d) => d.field === 'alarm_bits')).toMatchObject({ kind: 'filled', jt808: 1 });
    expect(second.differences.find((d) => d.field === 'lat')).toMatchObject({ kind: 'filled', jt808: 30.1 });
  });

  test('wire resolution: 0.1 km/h, whole degrees, 10⁻⁶°, whole seconds — each change listed as rounded', () => {
    const data = { speed_kmh: 80.83, heading_deg: 35.4, lat: 30.123_456_7, lon: 104, altitude_m: 500.4, mileage_km: 10.04, status_bits: 3, alarm_bits: 0 };
    const loc = vehicleDataToLocation(data, TS + 1500);
    expect(loc.body.time).toBe(TS + 1000);
    const p = overTheWire(loc.body);
    expect(p.data).toMatchObject({ speed_kmh: 80.8, heading_deg: 35, lat: 30.123_457, altitude_m: 500, mileage_km: 10 });
    expect(kinds(loc.differences)).toEqual(['altitude_m rounded', 'heading_deg rounded', 'lat rounded', 'mileage_km rounded', 'speed_kmh rounded', 'ts rounded']);
  });

  test('status bit5 given with a position: lat/lon are dropped by the gateway, and said so', () => {
    const loc = vehicleDataToLocation({ status_bits: 0b10_0011, lat: 30, lon: 104, speed_kmh: 0, heading_deg: 0, alarm_bits: 0, altitude_m: 0 }, TS);
    expect(kinds(loc.differences)).toEqual(['lat dropped', 'lon dropped']);
  });

  test('backfill: true goes as a 0x0704 blind-area point (history whatever its age); backfill: false cannot be carried', () => {
    const base = { speed_kmh: 10, lat: 30, lon: 104, status_bits: 3, alarm_bits: 0, heading_deg: 0, altitude_m: 0 };
    const yes = vehicleDataToLocation({ ...base, backfill: true }, TS);
    expect(yes.backfill).toBe(true);
    expect(locationToVehiclePayload(yes.body, { backfill: true }).data).toEqual({ ...base, acc_on: true, located: true, backfill: true });
    expect(kinds(yes.differences)).toEqual(['backfill history']);
    const no = vehicleDataToLocation({ ...base, backfill: false }, TS);
    expect(no.backfill).toBe(false);
    expect(kinds(no.differences)).toEqual(['backfill dropped']);
  });
});

const VEHICLE_SCENARIO = `name: jt808-unit
title: 单元测试车辆
start: '2025-03-15T10:00:00+08:00'
devices:
  - { tenant: t1, device_id: '013900000001', kind: vehicle, region: '510100', heartbeat_s: 30, attrs: { vehicle_class: truck } }
  - { tenant: t1, device_id: truck-2, kind: vehicle, region: '510100', heartbeat_s: 30, attrs: { plate: 川A12345 } }
  - { tenant: t1, device_id: truck-3, kind: vehicle, region: '510100', heartbeat_s: 30, attrs: { jt808_phone: '14400000000' } }
  - { tenant: t1, device_id: gas-1, kind: gas, region: '510104', heartbeat_s: 60 }
timeline:
  - { device: '013900000001', at: 0s, data: { speed_kmh: 50, lat: 30.1, lon: 104.1, heading_deg: 10, status_bits: 3, alarm_bits: 0, altitude_m: 500 } }
  - device: '013900000001'
    from: 1m
    until: 2m
    every: 20s
    batch: true
    at: 3m
    data: { speed_kmh: { steps: [[1m, 60], [1m40s, 70]] }, lat: 30.2, lon: 104.2, heading_deg: 10, status_bits: 3, alarm_bits: 0, altitude_m: 500, backfill: { steps: [[1m, false], [1m20s, true]] } }
  - { device: truck-2, at: 30s, channel: status, data: { speed_kmh: 0, acc_on: false } }
  - { device: gas-1, at: 10s, data: { concentration_lel: 1 } }
expect: []
`;

describe('sim/scenario jt808: scenario messages → 0x0200 / 0x0704', () => {
  const s = scenarioOf(VEHICLE_SCENARIO);
  const messages = scenarioMessages(s);
  const vehicle = (id: string): ScenarioMessage[] => messages.filter((m) => m.deviceId === id);

  test('a single reading is a 0x0200; a buffered upload a 0x0704 data_type 0, split into a data_type 1 run where the readings say backfill', () => {
    const conv = new ScenarioJt808Converter();
    const [single, batch] = vehicle('013900000001');
    const a = conv.convert(single as ScenarioMessage);
    expect(a.bodies).toHaveLength(1);
    expect(a.bodies[0]).toMatchObject({ type: 'location', speedDeciKmh: 500, time: (single as ScenarioMessage).atMs });
    expect(a.differences).toEqual([]);
    const b = conv.convert(batch as ScenarioMessage);
    const types = b.bodies.map((x) => (x.type === 'location_batch' ? [x.dataType, x.locations.map((l) => [l.time - s.startMs, l.speedDeciKmh])] : x.type));
    expect(types).toEqual([
      [BATCH_TYPE.NORMAL, [[60_000, 600]]],
      [
        BATCH_TYPE.BLIND_AREA,
        [
          [80_000, 600],
          [100_000, 700],
        ],
      ],
    ]);
    expect(kinds(b.differences)).toEqual(['backfill dropped', 'backfill history', 'backfill history']);
    // Each point, as the gateway maps it, has the reading's data.
    const readings = scenarioReadings(s, { seed: 1 }).filter((r) => r.entry === 1);
    const points = b.bodies.flatMap((x) => (x.type === 'location_batch' ? x.locations.map((l) => locationToVehiclePayload(l, { backfill: x.dataType === BATCH_TYPE.BLIND_AREA })) : []));
    points.forEach((p, i) => {
      const want = { ...(readings[i]?.data as Record<string, unknown>) };
      if (want.backfill === false) delete want.backfill;
      expect(p.data).toEqual({ ...want, acc_on: true, located: true });
    });
  });

  test('another channel than telemetry is listed: JT/T 808 locations are telemetry', () => {
    const conv = new ScenarioJt808Converter();
    const m = vehicle('truck-2')[0] as ScenarioMessage;
    const c = conv.convert(m);
    expect(c.differences.find((d) => d.field === 'channel')).toMatchObject({ kind: 'changed', scenario: 'status', jt808: 'telemetry' });
    expect((c.bodies[0] as Extract<Jt808Body, { type: 'location' }>).statusBits & 1).toBe(0); // acc_on false
  });

  test('only vehicles convert', () => {
    expect(() => new ScenarioJt808Converter().convert(vehicle('gas-1')[0] as ScenarioMessage)).toThrow(/gas device/);
  });

  test('phones: a numeric device id or attrs.jt808_phone is the vehicle’s own; the others get one the seed file registers', () => {
    const phones = scenarioJt808Phones(s);
    // truck-3 holds 14400000000, so the first assigned phone skips it.
    expect(Object.fromEntries(phones)).toEqual({ 't1/013900000001': '013900000001', 't1/truck-2': '14400000001', 't1/truck-3': '14400000000' });
    const seed = parse(scenarioJt808SeedYaml(s, phones)) as { devices: unknown[] };
    const devices = seed.devices.map((d) => deviceFromInput(DEVICE_INPUT_SCHEMA.parse(d)));
    expect(devices.map((d) => (d.kind === 'vehicle' ? vehiclePhone(d) : undefined))).toEqual(['13900000001', '14400000001', '14400000000', undefined]);
    expect(devices[1]?.attrs).toEqual({ plate: '川A12345', jt808_phone: '14400000001' });
  });
});

describe('sim/scenario jt808: the shipped vehicle scenarios', () => {
  test('hazmat-night-ban: every reading round-trips through the codec with its data; only altitude_m is added', () => {
    const loaded = loadScenarioFile(join(import.meta.dirname, '../../../devices/scenarios/hazmat-night-ban.yaml'));
    if (!loaded.ok) throw new Error('hazmat-night-ban does not load');
    const s = loaded.value;
    const conv = new ScenarioJt808Converter();
    const messages = scenarioMessages(s);
    const readings = scenarioReadings(s, { seed: s.seed });
    let i = 0;
    for (const m of messages) {
      const c = conv.convert(m);
      expect(kinds(c.differences)).toEqual(['altitude_m filled']);
      expect(c.bodies).toHaveLength(1);
      const body = c.bodies[0] as Extract<Jt808Body, { type: 'location' }>;
      const p = overTheWire(body);
      expect(p.ts).toBe(m.readingTs[0]);
      // readings are in timeline order, messages in time order: find the reading by its device time.
      const r = readings.find((x) => s.startMs + x.offsetMs === m.readingTs[0]);
      expect(p.data).toEqual({ ...r?.data, acc_on: (p.data.status_bits ?? 0) % 2 === 1, located: true, altitude_m: 0 });
      i++;
    }
    expect(i).toBe(messages.length);
    expect(i).toBeGreaterThan(250);
  });
});
