import { migrate, type SqliteDb } from '../../lib/sqlite.js';
import { authCodeMatches, generateAuthCode, hashAuthCode, type AuthCodeRecord, type AuthCodeStore, type TerminalRef } from './auth-code-store.js';

const MIGRATIONS = [
  // One row per phone; the unique index keeps one phone per device. Only the SHA-256 of the code is stored.
  `CREATE TABLE jt808_auth_codes (
     phone TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     device_id TEXT NOT NULL,
     code_sha256 BLOB NOT NULL,
     issued_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX jt808_auth_codes_device ON jt808_auth_codes (tenant, device_id);`,
];

interface Row {
  phone: string;
  tenant: string;
  device_id: string;
  code_sha256: Buffer;
  issued_at: number;
}

/**
 * An {@link AuthCodeStore} in SQLite (migration area `jt808`), so terminals keep their codes across restarts: a
 * terminal registers once (domain.md §5.6) and authenticates with the stored code on every reconnect.
 */
export class SqliteAuthCodeStore implements AuthCodeStore {
  private readonly db: SqliteDb;

  constructor(ctx: { db: SqliteDb }) {
    this.db = ctx.db;
  }

  /** Applies the migrations. Call once before use. */
  start(): void {
    migrate(this.db, 'jt808', MIGRATIONS);
  }

  issue(phone: string, ref: TerminalRef, now: number): string {
    const code = generateAuthCode();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM jt808_auth_codes WHERE tenant = ? AND device_id = ? AND phone <> ?').run(ref.tenant, ref.deviceId, phone);
      this.db
        .prepare(
          `INSERT INTO jt808_auth_codes (phone, tenant, device_id, code_sha256, issued_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (phone) DO UPDATE SET tenant = excluded.tenant, device_id = excluded.device_id,
             code_sha256 = excluded.code_sha256, issued_at = excluded.issued_at`,
        )
        .run(phone, ref.tenant, ref.deviceId, hashAuthCode(code), now);
    })();
    return code;
  }

  check(phone: string, code: string): AuthCodeRecord | undefined {
    const row = this.row('SELECT * FROM jt808_auth_codes WHERE phone = ?', phone);
    return row && authCodeMatches(code, row.code_sha256) ? record(row) : undefined;
  }

  findByPhone(phone: string): AuthCodeRecord | undefined {
    const row = this.row('SELECT * FROM jt808_auth_codes WHERE phone = ?', phone);
    return row && record(row);
  }

  findByDevice(ref: TerminalRef): AuthCodeRecord | undefined {
    const row = this.row('SELECT * FROM jt808_auth_codes WHERE tenant = ? AND device_id = ?', ref.tenant, ref.deviceId);
    return row && record(row);
  }

  revoke(phone: string): boolean {
    return this.db.prepare('DELETE FROM jt808_auth_codes WHERE phone = ?').run(phone).changes > 0;
  }

  private row(sql: string, ...params: string[]): Row | undefined {
    return this.db.prepare(sql).get(...params) as Row | undefined;
  }
}

function record(r: Row): AuthCodeRecord {
  return { phone: r.phone, tenant: r.tenant, deviceId: r.device_id, issuedAt: r.issued_at };
}
