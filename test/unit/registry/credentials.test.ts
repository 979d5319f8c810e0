import { execFileSync } from 'node:child_process';
import * as nodeCrypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import {
  CredentialStore,
  DEFAULT_CREDENTIAL_OPTIONS,
  mosquittoHash,
  parseCredentialUsername,
  type CredentialChange,
} from '../../../src/registry/credentials.js';

// Spy on the constant-time comparison without changing it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
/** Cheap parameters keep the suite fast; the defaults are checked on their own. */
const FAST = { scryptN: 1024, scryptR: 8, scryptP: 1, mosquittoIterations: 101 };

interface Row {
  username: string;
  scrypt_n: number;
  scrypt_r: number;
  scrypt_p: number;
  scrypt_salt: Buffer;
  scrypt_hash: Buffer;
  mosquitto_hash: string;
  generation: number;
  issued_at: number;
  rotated_at: number;
  revoked_at: number | null;
}

describe('CredentialStore', () => {
  let db: SqliteDb;
  let clock: FakeClock;
  let store: CredentialStore;
  let changes: CredentialChange[];

  beforeEach(() => {
    db = openSqlite(':memory:');
    clock = new FakeClock();
    store = new CredentialStore({ db, options: FAST, clock });
    store.start();
    changes = [];
    store.events.on('credentialChanged', {}, (c) => changes.push(c));
  });
  afterEach(() => db.close());

  const row = (username: string): Row => db.prepare('SELECT * FROM device_credentials WHERE username = ?').get(username) as Row;

  test('issue returns a username of tenant/deviceId and a random base64url password of at least 128 bits', () => {
    const a = store.issue('acme', 'GD-0001');
    const b = store.issue('acme', 'GD-0002');
    expect(a.username).toBe('acme/GD-0001');
    expect(a.password).toMatch(/^[A-Za-z0-9_-]{32}$/); // 24 bytes = 192 bits
    expect(Buffer.from(a.password, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(a.password).not.toBe(b.password);
    expect(changes).toEqual([
      { tenant: 'acme', deviceId: 'GD-0001', change: 'issued' },
      { tenant: 'acme', deviceId: 'GD-0002', change: 'issued' },
    ]);
  });

  test('verify accepts the issued password and refuses a wrong one, another device\'s and an unknown username', async () => {
    const a = store.issue('acme', 'GD-0001');
    const b = store.issue('acme', 'GD-0002');
    expect(await store.verify(a.username, a.password)).toEqual({ tenant: 'acme', deviceId: 'GD-0001' });
    expect(await store.verify(a.username, Buffer.from(a.password))).toEqual({ tenant: 'acme', deviceId: 'GD-0001' });
    expect(await store.verify(a.username, `${a.password}x`)).toBeUndefined();
    expect(await store.verify(a.username, b.password)).toBeUndefined();
    expect(await store.verify('acme/GD-9999', a.password)).toBeUndefined();
    expect(await store.verify(a.username, '')).toBeUndefined();
    expect(await store.verify(a.username, 'x'.repeat(10_000))).toBeUndefined();
  });

  test('the comparison of hashes is constant-time (crypto.timingSafeEqual)', async () => {
    const spy = vi.mocked(nodeCrypto.timingSafeEqual);
    const a = store.issue('acme', 'GD-0001');
    spy.mockClear();
    await store.verify(a.username, 'wrong-password-of-some-length');
    expect(spy).toHaveBeenCalledTimes(1);
    const [x, y] = spy.mock.calls[0] as [Buffer, Buffer];
    expect(x.length).toBe(32);
    expect(y.length).toBe(32);
  });

  test('only hashes are stored: scrypt with its parameters and salt per row, and a Mosquitto $7$ hash', () => {
    const a = store.issue('acme', 'GD-0001');
    const r = row(a.username);
    expect(JSON.stringify(Object.values(r).map(String))).not.toContain(a.password);
    expect(r).toMatchObject({ scrypt_n: 1024, scrypt_r: 8, scrypt_p: 1, generation: 1, revoked_at: null });
    expect(r.scrypt_salt.length).toBe(16);
    expect(r.scrypt_hash.length).toBe(32);
    expect(r.scrypt_hash.equals(nodeCrypto.scryptSync(a.password, r.scrypt_salt, 32, { N: 1024, r: 8, p: 1 }))).toBe(true);
    // mosquitto_passwd's sha512-pbkdf2: $7$<iterations>$<12-byte salt, base64>$<64-byte hash, base64>
    const m = /^\$7\$(\d+)\$([A-Za-z0-9+/]{16})\$([A-Za-z0-9+/]{86}==)$/.exec(r.mosquitto_hash);
    expect(m).not.toBeNull();
    const [, iterations, salt, hash] = m as unknown as [string, string, string, string];
    expect(Number(iterations)).toBe(101);
    expect(nodeCrypto.pbkdf2Sync(a.password, Buffer.from(salt, 'base64'), 101, 64, 'sha512').toString('base64')).toBe(hash);
    expect(store.mosquittoEntries()).toEqual([{ tenant: 'acme', deviceId: 'GD-0001', username: 'acme/GD-0001', hash: r.mosquitto_hash }]);
  });

  test.skipIf(!existsSync(MOSQUITTO_PASSWD))('the $7$ hash is byte-for-byte what the real mosquitto_passwd writes for the same salt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-passwd-'));
    try {
      const file = join(dir, 'passwd');
      execFileSync(MOSQUITTO_PASSWD, ['-c', '-b', file, 'acme/GD-0001', 'S3cret-pw_x']);
      const theirs = readFileSync(file, 'utf8').trim().split(':')[1] as string;
      const [, , iterations, salt] = theirs.split('$') as [string, string, string, string, string];
      expect(mosquittoHash('S3cret-pw_x', Number(iterations), Buffer.from(salt, 'base64'))).toBe(theirs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rotate makes the old password invalid at once and returns a new one', async () => {
    const first = store.issue('acme', 'GD-0001');
    clock.advance(60_000);
    const second = store.rotate('acme', 'GD-0001');
    expect(second.username).toBe(first.username);
    expect(second.password).not.toBe(first.password);
    expect(await store.verify(first.username, first.password)).toBeUndefined();
    expect(await store.verify(second.username, second.password)).toEqual({ tenant: 'acme', deviceId: 'GD-0001' });
    expect(row(first.username).generation).toBe(2);
    expect(store.get('acme', 'GD-0001')).toEqual({ tenant: 'acme', deviceId: 'GD-0001', username: 'acme/GD-0001', issuedAt: clock.now() - 60_000, rotatedAt: clock.now(), revokedAt: undefined });
    expect(changes.map((c) => c.change)).toEqual(['issued', 'rotated']);
  });

  test('a verify in flight when the credential is rotated fails (revocation wins over a computed match)', async () => {
    const a = store.issue('acme', 'GD-0001');
    const pending = store.verify(a.username, a.password); // scrypt runs on the libuv pool
    store.rotate('acme', 'GD-0001');
    expect(await pending).toBeUndefined();
  });

  test('revoke ends the credential, keeps a record without hashes, and can be re-issued', async () => {
    const a = store.issue('acme', 'GD-0001');
    clock.advance(1_000);
    expect(store.revoke('acme', 'GD-0001')).toBe(true);
    expect(store.revoke('acme', 'GD-0001')).toBe(false);
    expect(await store.verify(a.username, a.password)).toBeUndefined();
    expect(store.isActive('acme', 'GD-0001')).toBe(false);
    expect(store.get('acme', 'GD-0001')?.revokedAt).toBe(clock.now());
    expect(row(a.username).scrypt_hash.length).toBe(0);
    expect(row(a.username).mosquitto_hash).toBe('');
    expect(store.mosquittoEntries()).toEqual([]);
    expect(() => store.rotate('acme', 'GD-0001')).toThrow(expect.objectContaining({ code: 'RG_ERR_API_NOT_FOUND' }));
    const again = store.issue('acme', 'GD-0001');
    expect(await store.verify(again.username, again.password)).toEqual({ tenant: 'acme', deviceId: 'GD-0001' });
    expect(changes.map((c) => c.change)).toEqual(['issued', 'revoked', 'issued']);
  });

  test('issuing over an active credential is a conflict unless replace is asked for', async () => {
    const a = store.issue('acme', 'GD-0001');
    expect(() => store.issue('acme', 'GD-0001')).toThrow(expect.objectContaining({ code: 'RG_ERR_CONFLICT' }));
    const b = store.issue('acme', 'GD-0001', { replace: true });
    expect(await store.verify(a.username, a.password)).toBeUndefined();
    expect(await store.verify(b.username, b.password)).toBeDefined();
  });

  test.each(['a:b', 'a/b', '', 'x'.repeat(65), 'sp ace'])('an id %j cannot hold a credential', (bad) => {
    expect(() => store.issue(bad, 'GD-0001')).toThrow(expect.objectContaining({ code: 'RG_ERR_API_BAD_REQUEST' }));
    expect(() => store.issue('acme', bad)).toThrow(expect.objectContaining({ code: 'RG_ERR_API_BAD_REQUEST' }));
  });

  test('changed cost parameters apply to new credentials; existing rows verify with their own', async () => {
    const old = store.issue('acme', 'GD-0001');
    const stronger = new CredentialStore({ db, options: { ...FAST, scryptN: 2048 } });
    stronger.start();
    const fresh = stronger.issue('acme', 'GD-0002');
    expect(row(old.username).scrypt_n).toBe(1024);
    expect(row(fresh.username).scrypt_n).toBe(2048);
    expect(await stronger.verify(old.username, old.password)).toBeDefined();
    expect(await store.verify(fresh.username, fresh.password)).toBeDefined();
  });

  test('the default cost is scrypt N=2^14, r=8, p=1 and 192-bit passwords', async () => {
    expect(DEFAULT_CREDENTIAL_OPTIONS).toMatchObject({ scryptN: 16384, scryptR: 8, scryptP: 1, passwordBytes: 24 });
    const defaults = new CredentialStore({ db });
    defaults.start();
    const c = defaults.issue('acme', 'GD-0003');
    expect(row(c.username).scrypt_n).toBe(16384);
    expect(await defaults.verify(c.username, c.password)).toEqual({ tenant: 'acme', deviceId: 'GD-0003' });
  });

  test('list and parseCredentialUsername', () => {
    store.issue('acme', 'GD-0001');
    store.issue('beta', 'B-1');
    expect(store.list().map((c) => c.username)).toEqual(['acme/GD-0001', 'beta/B-1']);
    expect(store.list({ tenant: 'beta' }).map((c) => c.username)).toEqual(['beta/B-1']);
    expect(parseCredentialUsername('acme/GD-0001')).toEqual({ tenant: 'acme', deviceId: 'GD-0001' });
    for (const bad of ['acme', 'acme/', '/GD-1', 'a/b/c', 'riskgate-ingest', 'a:b/c']) expect(parseCredentialUsername(bad)).toBeUndefined();
  });
});
