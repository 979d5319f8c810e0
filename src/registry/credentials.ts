import { pbkdf2Sync, randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { EventBus } from '../lib/event-bus.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { RiskgateError } from '../lib/errors.js';
import { migrate, type SqliteDb } from '../lib/sqlite.js';

/** Cost parameters of the stored hashes. Changing them affects new and rotated credentials only: each row keeps its own. */
export interface CredentialOptions {
  /** scrypt CPU/memory cost N, a power of two. Default 2^14 (16 MiB, ~25–75 ms per verify on one server core). */
  scryptN: number;
  /** scrypt block size r. Default 8. */
  scryptR: number;
  /** scrypt parallelism p. Default 1. */
  scryptP: number;
  /**
   * PBKDF2-SHA512 iterations of the Mosquitto `$7$` hash kept for `riskgate export mosquitto`. Default 1000
   * (mosquitto_passwd uses 101). Mosquitto verifies on its single thread at every CONNECT, so this stays cheap;
   * the passwords are 192-bit random, which no offline guessing reaches at any iteration count.
   */
  mosquittoIterations: number;
  /** Random bytes per password. Default 24 (192 bits, 32 base64url characters); at least 16. */
  passwordBytes: number;
}

export const DEFAULT_CREDENTIAL_OPTIONS: CredentialOptions = {
  scryptN: 2 ** 14,
  scryptR: 8,
  scryptP: 1,
  mosquittoIterations: 1000,
  passwordBytes: 24,
};

/** A credential as handed to its device, once: the password is not stored anywhere. */
export interface IssuedCredential {
  /** `${tenant}/${deviceId}`. */
  username: string;
  password: string;
}

/** A stored credential without its secrets (for listings and the API). */
export interface CredentialInfo {
  tenant: string;
  deviceId: string;
  username: string;
  /** Epoch ms of the first issue. */
  issuedAt: number;
  /** Epoch ms of the latest issue or rotation. */
  rotatedAt: number;
  /** Epoch ms of the revocation; undefined while the credential is active. */
  revokedAt?: number;
}

/** One line of a Mosquitto password file, without the plaintext. */
export interface MosquittoPasswordEntry {
  tenant: string;
  deviceId: string;
  username: string;
  /** `$7$<iterations>$<salt base64>$<hash base64>` (Mosquitto 2.0 PBKDF2-SHA512). */
  hash: string;
}

/** What changed; every change ends the device's live sessions (the broker listens). */
export interface CredentialChange {
  tenant: string;
  deviceId: string;
  change: 'issued' | 'rotated' | 'revoked';
}

export interface CredentialEvents {
  credentialChanged: CredentialChange;
}

const MIGRATIONS = [
  `CREATE TABLE device_credentials (
     tenant TEXT NOT NULL,
     device_id TEXT NOT NULL,
     username TEXT NOT NULL UNIQUE,
     scrypt_n INTEGER NOT NULL,
     scrypt_r INTEGER NOT NULL,
     scrypt_p INTEGER NOT NULL,
     scrypt_salt BLOB NOT NULL,
     scrypt_hash BLOB NOT NULL,
     mosquitto_hash TEXT NOT NULL,
     generation INTEGER NOT NULL,
     issued_at INTEGER NOT NULL,
     rotated_at INTEGER NOT NULL,
     revoked_at INTEGER,
     PRIMARY KEY (tenant, device_id)
   )`,
];

interface CredentialRow {
  tenant: string;
  device_id: string;
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

// Ids are topic segments; '/' separates tenant from device in the username and ':' ends the username in a Mosquitto
// password file, so neither may appear (topics.ts allows ':' in ids; devices with one cannot get a credential).
const CREDENTIAL_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SCRYPT_KEY_BYTES = 32;
const SCRYPT_SALT_BYTES = 16;
const MOSQUITTO_SALT_BYTES = 12; // what mosquitto_passwd writes
const MOSQUITTO_HASH_BYTES = 64; // SHA-512 output
/** Longer passwords are refused before hashing: ours are 32 characters. */
const MAX_PASSWORD_BYTES = 256;

export interface CredentialStoreContext {
  db: SqliteDb;
  options?: Partial<CredentialOptions>;
  clock?: Clock;
}

/**
 * Per-device MQTT credentials. The password is random, returned once by `issue`/`rotate`, and stored only as a scrypt
 * hash (verification) and a Mosquitto `$7$` hash (export to an external Mosquitto). Rotation and revocation take
 * effect at once: a verify that was in flight when the credential changed fails, and `credentialChanged` lets the
 * broker cut the live session.
 */
export class CredentialStore {
  /** `credentialChanged` after every issue, rotation and revocation (synchronously, inside the call). */
  readonly events = new EventBus<CredentialEvents>();
  private readonly db: SqliteDb;
  private readonly options: CredentialOptions;
  private readonly clock: Clock;
  /** Burnt on unknown usernames so a miss costs what a hit costs. */
  private readonly dummySalt = randomBytes(SCRYPT_SALT_BYTES);

  constructor(ctx: CredentialStoreContext) {
    this.db = ctx.db;
    this.options = { ...DEFAULT_CREDENTIAL_OPTIONS, ...ctx.options };
    this.clock = ctx.clock ?? systemClock;
    if (this.options.passwordBytes < 16) throw new RiskgateError('RG_ERR_CONFIG_INVALID', 'passwordBytes must be at least 16 (128 bits)');
  }

  start(): void {
    migrate(this.db, 'credentials', MIGRATIONS);
  }

  /**
   * Creates the device's credential and returns its password (the only time it exists in clear). Throws
   * RG_ERR_CONFLICT when an active credential exists, unless `replace` (then it is a rotation).
   */
  issue(tenant: string, deviceId: string, opts: { replace?: boolean } = {}): IssuedCredential {
    checkIds(tenant, deviceId);
    const existing = this.row(tenant, deviceId);
    if (existing && existing.revoked_at === null) {
      if (opts.replace) return this.rotate(tenant, deviceId);
      throw new RiskgateError('RG_ERR_CONFLICT', `device ${tenant}/${deviceId} already has a credential; rotate it instead`);
    }
    return this.write(tenant, deviceId, 'issued');
  }

  /** Replaces the password; the old one stops working at once. Throws RG_ERR_API_NOT_FOUND without an active credential. */
  rotate(tenant: string, deviceId: string): IssuedCredential {
    checkIds(tenant, deviceId);
    const existing = this.row(tenant, deviceId);
    if (!existing || existing.revoked_at !== null) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `device ${tenant}/${deviceId} has no active credential`);
    return this.write(tenant, deviceId, 'rotated');
  }

  /** Ends the credential (the row stays, without its hashes, as a record). Returns false when there was none active. */
  revoke(tenant: string, deviceId: string): boolean {
    const now = this.clock.now();
    const res = this.db
      .prepare(
        `UPDATE device_credentials SET revoked_at = ?, generation = generation + 1, scrypt_hash = zeroblob(0), mosquitto_hash = ''
         WHERE tenant = ? AND device_id = ? AND revoked_at IS NULL`,
      )
      .run(now, tenant, deviceId);
    if (res.changes === 0) return false;
    this.events.emit('credentialChanged', { tenant, deviceId, change: 'revoked' });
    return true;
  }

  /**
   * The device a username/password pair belongs to, or undefined. Runs scrypt off the event loop (libuv pool) and
   * compares in constant time. A credential rotated or revoked while the hash was computed does not verify.
   */
  async verify(username: string, password: string | Buffer): Promise<{ tenant: string; deviceId: string } | undefined> {
    const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
    if (pw.length === 0 || pw.length > MAX_PASSWORD_BYTES) return undefined;
    const row = this.db.prepare('SELECT * FROM device_credentials WHERE username = ? AND revoked_at IS NULL').get(username) as CredentialRow | undefined;
    if (!row) {
      const { scryptN: N, scryptR: r, scryptP: p } = this.options;
      await scryptAsync(pw, this.dummySalt, { N, r, p });
      return undefined;
    }
    const derived = await scryptAsync(pw, row.scrypt_salt, { N: row.scrypt_n, r: row.scrypt_r, p: row.scrypt_p });
    const match = derived.length === row.scrypt_hash.length && timingSafeEqual(derived, row.scrypt_hash);
    if (!match) return undefined;
    // The row may have changed while scrypt ran: revocation and rotation win.
    const now = this.db.prepare('SELECT generation FROM device_credentials WHERE username = ? AND revoked_at IS NULL').get(username) as { generation: number } | undefined;
    if (now?.generation !== row.generation) return undefined;
    return { tenant: row.tenant, deviceId: row.device_id };
  }

  /** True while the device has an active credential. */
  isActive(tenant: string, deviceId: string): boolean {
    const row = this.row(tenant, deviceId);
    return row !== undefined && row.revoked_at === null;
  }

  /** The credential record without secrets. */
  get(tenant: string, deviceId: string): CredentialInfo | undefined {
    const row = this.row(tenant, deviceId);
    return row ? info(row) : undefined;
  }

  list(filter: { tenant?: string } = {}): CredentialInfo[] {
    const rows = (filter.tenant === undefined
      ? this.db.prepare('SELECT * FROM device_credentials ORDER BY tenant, device_id').all()
      : this.db.prepare('SELECT * FROM device_credentials WHERE tenant = ? ORDER BY device_id').all(filter.tenant)) as CredentialRow[];
    return rows.map(info);
  }

  /** Active credentials as Mosquitto password-file hashes, ordered by username. */
  mosquittoEntries(): MosquittoPasswordEntry[] {
    const rows = this.db
      .prepare('SELECT tenant, device_id, username, mosquitto_hash FROM device_credentials WHERE revoked_at IS NULL ORDER BY username')
      .all() as Pick<CredentialRow, 'tenant' | 'device_id' | 'username' | 'mosquitto_hash'>[];
    return rows.map((r) => ({ tenant: r.tenant, deviceId: r.device_id, username: r.username, hash: r.mosquitto_hash }));
  }

  private row(tenant: string, deviceId: string): CredentialRow | undefined {
    return this.db.prepare('SELECT * FROM device_credentials WHERE tenant = ? AND device_id = ?').get(tenant, deviceId) as CredentialRow | undefined;
  }

  private write(tenant: string, deviceId: string, change: 'issued' | 'rotated'): IssuedCredential {
    const { scryptN: N, scryptR: r, scryptP: p, mosquittoIterations, passwordBytes } = this.options;
    const username = credentialUsername(tenant, deviceId);
    const password = randomBytes(passwordBytes).toString('base64url');
    const salt = randomBytes(SCRYPT_SALT_BYTES);
    // Issue and rotate are admin actions, not the connect path: the synchronous hash keeps the row write atomic.
    const hash = scryptSync(password, salt, SCRYPT_KEY_BYTES, scryptOptions({ N, r, p }));
    const now = this.clock.now();
    this.db
      .prepare(
        `INSERT INTO device_credentials (tenant, device_id, username, scrypt_n, scrypt_r, scrypt_p, scrypt_salt, scrypt_hash, mosquitto_hash, generation, issued_at, rotated_at, revoked_at)
         VALUES (@tenant, @device_id, @username, @n, @r, @p, @salt, @hash, @mosquitto, 1, @now, @now, NULL)
         ON CONFLICT (tenant, device_id) DO UPDATE SET scrypt_n = excluded.scrypt_n, scrypt_r = excluded.scrypt_r, scrypt_p = excluded.scrypt_p,
           scrypt_salt = excluded.scrypt_salt, scrypt_hash = excluded.scrypt_hash, mosquitto_hash = excluded.mosquitto_hash,
           generation = device_credentials.generation + 1, rotated_at = excluded.rotated_at, revoked_at = NULL,
           issued_at = CASE WHEN device_credentials.revoked_at IS NULL THEN device_credentials.issued_at ELSE excluded.issued_at END`,
      )
      .run({ tenant, device_id: deviceId, username, n: N, r, p, salt, hash, mosquitto: mosquittoHash(password, mosquittoIterations), now });
    this.events.emit('credentialChanged', { tenant, deviceId, change });
    return { username, password };
  }
}

/** `${tenant}/${deviceId}`: the MQTT username of a device. */
export function credentialUsername(tenant: string, deviceId: string): string {
  return `${tenant}/${deviceId}`;
}

/** Splits a device username into tenant and device id, or undefined when it is not one. */
export function parseCredentialUsername(username: string): { tenant: string; deviceId: string } | undefined {
  const slash = username.indexOf('/');
  if (slash < 0) return undefined;
  const tenant = username.slice(0, slash);
  const deviceId = username.slice(slash + 1);
  return CREDENTIAL_ID.test(tenant) && CREDENTIAL_ID.test(deviceId) ? { tenant, deviceId } : undefined;
}

/**
 * A Mosquitto 2.0 password-file hash (`mosquitto_passwd -H sha512-pbkdf2`): `$7$<iterations>$<salt>$<hash>`, salt
 * 12 random bytes and hash PBKDF2-HMAC-SHA512 over the decoded salt, 64 bytes, both standard base64 with padding.
 */
export function mosquittoHash(password: string, iterations: number, salt: Buffer = randomBytes(MOSQUITTO_SALT_BYTES)): string {
  const hash = pbkdf2Sync(password, salt, iterations, MOSQUITTO_HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function checkIds(tenant: string, deviceId: string): void {
  if (!CREDENTIAL_ID.test(tenant) || !CREDENTIAL_ID.test(deviceId)) {
    throw new RiskgateError('RG_ERR_API_BAD_REQUEST', 'tenant and device id must be 1–64 characters of A–Z a–z 0–9 _ . - to hold a credential (no ":" or "/")');
  }
}

function info(r: CredentialRow): CredentialInfo {
  return { tenant: r.tenant, deviceId: r.device_id, username: r.username, issuedAt: r.issued_at, rotatedAt: r.rotated_at, revokedAt: r.revoked_at ?? undefined };
}

/** scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly N=2^15, r=8, so raise it with the parameters. */
function scryptOptions(o: { N: number; r: number; p: number }): ScryptOptions {
  return { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
}

function scryptAsync(password: Buffer, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, SCRYPT_KEY_BYTES, scryptOptions(o), (err, key) => (err ? reject(err) : resolve(key)));
  });
}
