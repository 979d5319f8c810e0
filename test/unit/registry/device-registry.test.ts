import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { migrate, openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import { DeviceRegistry, type Device } from '../../../src/registry/device-registry.js';

const gas = (deviceId: string, extra: Partial<Device> = {}): Device => ({ tenant: 't1', deviceId, kind: 'gas', heartbeatS: 60, attrs: {}, region: '510104', ...extra });

describe('registry/device-registry', () => {
  let db: SqliteDb;
  let registry: DeviceRegistry;
  beforeEach(() => {
    db = openSqlite(':memory:');
    registry = new DeviceRegistry(db);
    registry.start();
  });
  afterEach(() => db.close());

  test('create, replace and delete keep the in-memory map (the ingest lookup) in step with SQLite', () => {
    const created = registry.create(gas('g1', { installer: '成都安消', installedAt: '2024-05-01', lat: 30.65, lon: 104.07 }));
    expect(registry.get('t1', 'g1')).toBe(created);
    expect(created.createdAt).toBeTypeOf('number');
    expect(() => registry.create(gas('g1'))).toThrow(expect.objectContaining({ code: 'RG_ERR_CONFLICT' }));

    const replaced = registry.replace(gas('g1', { heartbeatS: 300, location: '3层厨房' })) as Device;
    expect(registry.get('t1', 'g1')).toMatchObject({ heartbeatS: 300, location: '3层厨房', createdAt: created.createdAt });
    expect(registry.get('t1', 'g1')?.installer).toBeUndefined(); // a replace clears what it does not give
    expect(registry.replace(gas('nope'))).toBeUndefined();

    const reloaded = new DeviceRegistry(db);
    reloaded.start();
    expect(reloaded.get('t1', 'g1')).toEqual(replaced);

    expect(registry.delete('t1', 'g1')).toEqual(replaced);
    expect(registry.get('t1', 'g1')).toBeUndefined();
    expect(registry.delete('t1', 'g1')).toBeUndefined();
    expect(db.prepare('SELECT COUNT(*) AS n FROM devices').get()).toEqual({ n: 0 });
  });

  test('a seed upsert keeps the registration time of a device already known', () => {
    const [first] = registry.upsert([gas('g1')]);
    db.prepare('UPDATE devices SET created_at = 1000').run();
    const again = new DeviceRegistry(db);
    again.start();
    again.upsert([gas('g1', { model: 'GT-2' })]);
    expect(again.get('t1', 'g1')).toMatchObject({ model: 'GT-2', createdAt: 1000 });
    expect(first?.createdAt).toBeGreaterThan(1000);
  });

  test('list filters by tenant, kind, region subtree and site', () => {
    registry.upsert([gas('a', { site: 'kitchen' }), gas('b', { region: '510116' }), { ...gas('c'), tenant: 't2', kind: 'smoke' }]);
    expect(registry.list({ region: '5101' }).map((d) => d.deviceId).sort()).toEqual(['a', 'b', 'c']);
    expect(registry.list({ region: '510116' }).map((d) => d.deviceId)).toEqual(['b']);
    expect(registry.list({ tenant: 't1', site: 'kitchen' }).map((d) => d.deviceId)).toEqual(['a']);
    expect(registry.list({ kind: 'smoke' }).map((d) => d.deviceId)).toEqual(['c']);
  });

  test('a database from before the installation columns is migrated in place, rows kept', () => {
    const old = openSqlite(':memory:');
    // Migration 1 exactly as shipped, then a row written by the old code.
    migrate(old, 'registry', [
      `CREATE TABLE devices (tenant TEXT NOT NULL, device_id TEXT NOT NULL, kind TEXT NOT NULL, model TEXT, region TEXT, site TEXT, location TEXT,
         heartbeat_s INTEGER NOT NULL, attrs TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (tenant, device_id))`,
    ]);
    old.prepare("INSERT INTO devices VALUES ('t1', 'old-1', 'gas', NULL, '510104', NULL, NULL, 60, '{}', 5, 5)").run();
    const r = new DeviceRegistry(old);
    r.start();
    expect(r.get('t1', 'old-1')).toMatchObject({ deviceId: 'old-1', createdAt: 5 });
    expect(old.prepare("SELECT MAX(version) AS v FROM schema_migrations WHERE area = 'registry'").get()).toEqual({ v: 2 });
    old.close();
  });
});
