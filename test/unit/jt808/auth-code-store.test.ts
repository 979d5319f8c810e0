import { afterEach, describe, expect, test } from 'vitest';
import { MemoryAuthCodeStore, SqliteAuthCodeStore, type AuthCodeStore } from '../../../src/ingest/jt808/index.js';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';

const dbs: SqliteDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

function sqliteStore(db = openSqlite(':memory:')): SqliteAuthCodeStore {
  dbs.push(db);
  const s = new SqliteAuthCodeStore({ db });
  s.start();
  return s;
}

const STORES: { name: string; make: () => AuthCodeStore }[] = [
  { name: 'MemoryAuthCodeStore', make: () => new MemoryAuthCodeStore() },
  { name: 'SqliteAuthCodeStore', make: () => sqliteStore() },
];

const truck = { tenant: 't3', deviceId: '013912345678' };

describe.each(STORES)('ingest/jt808 auth-code store: $name', ({ make }) => {
  test('an issued code checks for its phone only, and a fresh issue replaces it', () => {
    const s = make();
    const code = s.issue('13912345678', truck, 1000);
    expect(code).toMatch(/^[0-9A-F]{16}$/);
    expect(s.check('13912345678', code)).toEqual({ phone: '13912345678', ...truck, issuedAt: 1000 });
    expect(s.check('13912345679', code)).toBeUndefined();
    expect(s.check('13912345678', code.toLowerCase())).toBeUndefined();
    expect(s.check('13912345678', '')).toBeUndefined();
    const next = s.issue('13912345678', truck, 2000);
    expect(next).not.toBe(code);
    expect(s.check('13912345678', code)).toBeUndefined();
    expect(s.check('13912345678', next)?.issuedAt).toBe(2000);
  });

  test('a device is bound to one phone: issuing to another phone moves the binding', () => {
    const s = make();
    const old = s.issue('111', truck, 1);
    s.issue('222', truck, 2);
    expect(s.findByDevice(truck)?.phone).toBe('222');
    expect(s.findByPhone('111')).toBeUndefined();
    expect(s.check('111', old)).toBeUndefined();
  });

  test('revoke forgets a phone', () => {
    const s = make();
    const code = s.issue('111', truck, 1);
    expect(s.revoke('111')).toBe(true);
    expect(s.revoke('111')).toBe(false);
    expect(s.check('111', code)).toBeUndefined();
    expect(s.findByDevice(truck)).toBeUndefined();
  });
});

describe('ingest/jt808 SqliteAuthCodeStore', () => {
  test('codes survive a restart and only their hash is stored', () => {
    const db = openSqlite(':memory:');
    const code = sqliteStore(db).issue('13912345678', truck, 5);
    const reopened = sqliteStore(db);
    expect(reopened.check('13912345678', code)).toMatchObject(truck);
    const row = db.prepare('SELECT * FROM jt808_auth_codes').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(code);
    expect(db.prepare("SELECT version FROM schema_migrations WHERE area = 'jt808'").all()).toEqual([{ version: 1 }]);
  });
});
