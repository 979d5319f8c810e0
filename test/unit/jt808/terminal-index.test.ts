import { describe, expect, test } from 'vitest';
import { normalizePlate, TerminalIndex, vehiclePhone, type VehicleSource } from '../../../src/ingest/jt808/index.js';
import type { Device } from '../../../src/registry/device-registry.js';

const vehicle = (tenant: string, deviceId: string, attrs: Device['attrs'] = {}, kind: Device['kind'] = 'vehicle'): Device => ({ tenant, deviceId, kind, heartbeatS: 30, attrs });

class Registry implements VehicleSource {
  devices: Device[] = [];
  list(filter: { kind: 'vehicle' }): Device[] {
    return this.devices.filter((d) => d.kind === filter.kind);
  }
  get(tenant: string, deviceId: string): Device | undefined {
    return this.devices.find((d) => d.tenant === tenant && d.deviceId === deviceId);
  }
  get size(): number {
    return this.devices.length;
  }
}

const phone = (p: string) => ({ by: 'phone' as const, phone: p, phoneAsSent: p.padStart(12, '0') });

describe('jt808/terminal-index', () => {
  test('phone from attrs.jt808_phone, else a numeric device id; leading zeros ignored', () => {
    expect(vehiclePhone(vehicle('t', '013912345678'))).toBe('13912345678');
    expect(vehiclePhone(vehicle('t', 'veh-1', { jt808_phone: '013800000002' }))).toBe('13800000002');
    expect(vehiclePhone(vehicle('t', 'veh-1', { jt808_phone: 13800000002 }))).toBe('13800000002');
    expect(vehiclePhone(vehicle('t', '013912345678', { jt808_phone: 'not digits' }))).toBeUndefined();
    expect(vehiclePhone(vehicle('t', 'veh-1'))).toBeUndefined();
    expect(vehiclePhone(vehicle('t', '123456789012345678901'))).toBeUndefined(); // 21 digits: no header carries it
  });

  test('plates compare without separators, upper-cased', () => {
    expect(normalizePlate('川A·D1234')).toBe(normalizePlate('川ad 1234'));
    expect(normalizePlate('川A-12345')).toBe('川A12345');
  });

  test('finds vehicles by phone, terminal id and plate; not other kinds', () => {
    const r = new Registry();
    r.devices = [
      vehicle('t1', '013912345678', { plate: '川A12345' }),
      vehicle('t1', 'coach-7', { terminal_id: 'TC00007', plate: '川A·77777' }),
      vehicle('t2', 'gas-1', { jt808_phone: '13000000000' }, 'gas'),
    ];
    const idx = new TerminalIndex(r, () => 0);
    expect(idx.find(phone('13912345678'))).toEqual({ tenant: 't1', deviceId: '013912345678' });
    expect(idx.find({ by: 'terminal_id', terminalId: 'TC00007' })).toEqual({ tenant: 't1', deviceId: 'coach-7' });
    expect(idx.find({ by: 'plate', plate: '川A77777', plateColor: 2 })).toEqual({ tenant: 't1', deviceId: 'coach-7' });
    expect(idx.find(phone('13000000000'))).toBeUndefined();
  });

  test('a key shared by two vehicles finds nothing', () => {
    const r = new Registry();
    r.devices = [vehicle('t1', 'a', { plate: '川A12345' }), vehicle('t2', 'b', { plate: '川A·12345' })];
    expect(new TerminalIndex(r, () => 0).find({ by: 'plate', plate: '川A12345', plateColor: 2 })).toBeUndefined();
  });

  test('follows registry changes: additions, deletions and edited attributes', () => {
    const r = new Registry();
    let now = 0;
    r.devices = [vehicle('t1', 'a', { jt808_phone: '13900000001' })];
    const idx = new TerminalIndex(r, () => now);
    expect(idx.find(phone('13900000001'))).toEqual({ tenant: 't1', deviceId: 'a' });
    r.devices.push(vehicle('t1', 'b', { jt808_phone: '13900000002' })); // size changed
    expect(idx.find(phone('13900000002'))).toEqual({ tenant: 't1', deviceId: 'b' });
    // Same size, attribute edited: the stale hit is checked against the device and the index rebuilt.
    r.devices[0] = vehicle('t1', 'a', { jt808_phone: '13900000003' });
    expect(idx.find(phone('13900000001'))).toBeUndefined();
    expect(idx.find(phone('13900000003'))).toEqual({ tenant: 't1', deviceId: 'a' });
    // Same size, a device replaced by another: a miss rebuilds, at most once per 2 s.
    r.devices[1] = vehicle('t1', 'c', { jt808_phone: '13900000004' });
    expect(idx.find(phone('13900000004'))).toBeUndefined();
    now += 2_000;
    expect(idx.find(phone('13900000004'))).toEqual({ tenant: 't1', deviceId: 'c' });
    r.devices.pop();
    expect(idx.find(phone('13900000004'))).toBeUndefined();
  });
});
