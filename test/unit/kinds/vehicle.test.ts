import { describe, expect, test } from 'vitest';
import { vehicleKind } from '../../../src/kinds/vehicle.js';
import { EXAMPLE_PAYLOADS } from '../../fixtures/payloads.js';
import { expectAccepted, expectRejected, type RejectCase } from './cases.js';

const VALID: { name: string; data: Record<string, unknown> }[] = [
  { name: 'the example payload (domain.md §5.7 C)', data: EXAMPLE_PAYLOADS.vehicle.data },
  { name: 'a southern, western position', data: { lat: -33.8688, lon: -151.2093, located: true } },
  { name: 'a position below sea level (Turpan)', data: { lat: 42.65, lon: 89.19, altitude_m: -154 } },
  { name: 'all alarm bits set', data: { alarm_bits: 0xffff_ffff } },
  { name: 'extended bits and IO status', data: { ext_vehicle_bits: 0x8000_0001, io_status: 0x0003, fuel_l: 312.5, recorder_speed_kmh: 84 } },
  { name: 'a blind-area backfill point', data: { lat: 30.65742, lon: 104.06584, speed_kmh: 45.6, backfill: true } },
];

const REJECTS: RejectCase[] = [
  { name: 'latitude over 90°', data: { lat: 91 }, path: 'data.lat', rule: 'too_big' },
  { name: 'longitude under −180°', data: { lon: -180.5 }, path: 'data.lon', rule: 'too_small' },
  { name: 'latitude in 10⁻⁶ degrees (unscaled DWORD)', data: { lat: 30657420 }, path: 'data.lat', rule: 'too_big' },
  { name: 'speed over 300 km/h', data: { speed_kmh: 856 }, path: 'data.speed_kmh', rule: 'too_big' },
  { name: 'a heading of 360°', data: { heading_deg: 360 }, path: 'data.heading_deg', rule: 'too_big' },
  { name: 'alarm bits beyond 32 bits', data: { alarm_bits: 0x1_0000_0000 }, path: 'data.alarm_bits', rule: 'too_big' },
  { name: 'negative status bits', data: { status_bits: -1 }, path: 'data.status_bits', rule: 'too_small' },
  { name: 'status bits as a hex string', data: { status_bits: '0x004C0003' }, path: 'data.status_bits', rule: 'invalid_type' },
  { name: 'fractional status bits', data: { status_bits: 3.5 }, path: 'data.status_bits', rule: 'invalid_type' },
  { name: 'IO status beyond 16 bits', data: { io_status: 0x1_0000 }, path: 'data.io_status', rule: 'too_big' },
  { name: 'the 0xFFFF fuel sentinel', data: { fuel_l: 6553.5 }, path: 'data.fuel_l', rule: 'too_big' },
  { name: 'the 0xFF satellites sentinel', data: { satellites: 255 }, path: 'data.satellites', rule: 'too_big' },
  { name: 'a NaN-like string', data: { speed_kmh: 'NaN' }, path: 'data.speed_kmh', rule: 'invalid_type' },
  { name: 'ACC as a number', data: { acc_on: 1 }, path: 'data.acc_on', rule: 'invalid_type' },
  { name: 'an unknown key', data: { lat: 30, lng: 104 }, path: 'data.lng', rule: 'unrecognized_keys' },
  { name: 'empty data', data: {}, path: 'data', rule: 'empty_object' },
];

describe('kinds/vehicle', () => {
  test.each(VALID)('accepts $name', ({ data }) => {
    expectAccepted(vehicleKind, data);
  });

  test.each(REJECTS)('rejects $name at $path with $rule', (c) => {
    expectRejected(vehicleKind, c);
  });

  test('derives acc_on and located from status bits 0 and 1 (domain.md §5.7 C: 0x004C0003)', () => {
    const { fields, tags } = expectAccepted(vehicleKind, EXAMPLE_PAYLOADS.vehicle.data);
    expect(fields).toMatchObject({ status_bits: 0x004c_0003, alarm_bits: 2, acc_on: true, located: true, speed_kmh: 85.6 });
    expect(tags).toEqual({});
  });

  test.each([
    { status_bits: 0, acc_on: false, located: false },
    { status_bits: 0b01, acc_on: true, located: false },
    { status_bits: 0b10, acc_on: false, located: true },
    { status_bits: 0xffff_fffc, acc_on: false, located: false },
    { status_bits: 0xffff_ffff, acc_on: true, located: true },
  ])('derives acc_on $acc_on and located $located from status $status_bits', ({ status_bits, acc_on, located }) => {
    expect(expectAccepted(vehicleKind, { status_bits }).fields).toEqual({ status_bits, acc_on, located });
  });

  test('keeps explicit acc_on and located over the status bits', () => {
    const { fields } = expectAccepted(vehicleKind, { status_bits: 0b11, acc_on: false, located: false });
    expect(fields).toEqual({ status_bits: 3, acc_on: false, located: false });
  });

  test('derives nothing without status bits', () => {
    expect(expectAccepted(vehicleKind, { speed_kmh: 12 }).fields).toEqual({ speed_kmh: 12 });
  });
});
