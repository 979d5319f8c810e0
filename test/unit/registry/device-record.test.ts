import { describe, expect, test } from 'vitest';
import { openSqlite } from '../../../src/lib/sqlite.js';
import { DeviceRegistry, type Device } from '../../../src/registry/device-registry.js';

const FULL: Device = {
  tenant: 't1',
  deviceId: 'gas-1',
  kind: 'gas',
  model: 'RG-GD100',
  region: '510104',
  site: '华润烧烤攀成钢店',
  location: '后厨',
  heartbeatS: 300,
  attrs: { vehicle_class: 'hazmat', n: 2, ok: true },
  installedAt: '2024-05-01',
  installer: '成都消防工程有限公司',
  lat: 30.65,
  lon: 104.06,
};

describe('registry/device-registry records (issue 9)', () => {
  test('keeps every field of a device, in memory and after a restart', () => {
    const db = openSqlite(':memory:');
    const r = new DeviceRegistry(db);
    r.start();
    const [stored] = r.upsert([FULL, { tenant: 't1', deviceId: 'smk-1', kind: 'smoke', heartbeatS: 600, attrs: {} }]);
    expect(stored).toMatchObject(FULL);
    expect(Object.keys(r.get('t1', 'gas-1') as Device)).toEqual(Object.keys(r.get('t1', 'smk-1') as Device)); // one shape
    const again = new DeviceRegistry(db);
    again.start();
    expect(again.get('t1', 'gas-1')).toEqual(r.get('t1', 'gas-1'));
    expect(again.get('t1', 'smk-1')?.attrs).toEqual({});
    db.close();
  });

  test('the devices of a kind follow every change', () => {
    const db = openSqlite(':memory:');
    const r = new DeviceRegistry(db);
    r.start();
    r.upsert([FULL]);
    expect(r.ofKind('gas').map((d) => d.deviceId)).toEqual(['gas-1']);
    r.upsert([{ ...FULL, deviceId: 'gas-2' }]);
    expect(r.ofKind('gas').map((d) => d.deviceId)).toEqual(['gas-1', 'gas-2']);
    r.delete('t1', 'gas-1');
    expect(r.ofKind('gas').map((d) => d.deviceId)).toEqual(['gas-2']);
    expect(r.get('t1', 'gas-1')).toBeUndefined();
    expect(r.ofKind('smoke')).toEqual([]);
    db.close();
  });
});
