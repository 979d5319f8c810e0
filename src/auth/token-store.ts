import { createHash, randomBytes } from 'node:crypto';
import { migrate, type SqliteDb } from '../lib/sqlite.js';
import type { Principal, Role } from './principal.js';

/** A stored API token (never its secret: only the SHA-256 of a 256-bit random token). */
export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  tenant: string | null;
  /** operator: region code prefixes. */
  regions: string[];
  device_id: string | null;
  created_at: number;
  created_by: string;
  /** Epoch ms, or null for no expiry. */
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
}

const MIGRATIONS = [
  `CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     role TEXT NOT NULL,
     tenant TEXT,
     regions TEXT NOT NULL DEFAULT '[]',
     device_id TEXT,
     hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL,
     created_by TEXT NOT NULL,
     expires_at INTEGER,
     revoked_at INTEGER,
     revoked_by TEXT
   )`,
];

type Row = Omit<TokenRecord, 'regions'> & { regions: string; hash: string };

/** Prefix of every token, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'rgt_';

/**
 * API tokens with roles, hashed at rest. Tokens are 256-bit random values, so a plain SHA-256 is enough to make the
 * stored hash useless to a thief (a slow hash is needed for guessable secrets such as passwords, not for these).
 * Every request looks its token up in SQLite (an indexed read, microseconds), so a token created or revoked by the
 * CLI while the gateway runs takes effect at once.
 */
export class TokenStore {
  private readonly db: SqliteDb;
  private byHashStmt?: import('better-sqlite3').Statement;

  constructor(db: SqliteDb) {
    this.db = db;
  }

  start(): void {
    migrate(this.db, 'tokens', MIGRATIONS);
    this.byHashStmt = this.db.prepare('SELECT * FROM api_tokens WHERE hash = ? AND revoked_at IS NULL');
  }

  /** Creates a token; the secret is returned once and never stored. */
  create(input: { name: string; role: Role; tenant?: string; regions?: string[]; deviceId?: string; expiresAt?: number; createdBy: string }): { token: string; record: TokenRecord } {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: TokenRecord = {
      id: `tok_${randomBytes(6).toString('hex')}`,
      name: input.name,
      role: input.role,
      tenant: input.tenant ?? null,
      regions: input.regions ?? [],
      device_id: input.deviceId ?? null,
      created_at: Date.now(),
      created_by: input.createdBy,
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      revoked_by: null,
    };
    const hash = hashToken(token);
    this.db
      .prepare(
        'INSERT INTO api_tokens (id, name, role, tenant, regions, device_id, hash, created_at, created_by, expires_at) VALUES (@id, @name, @role, @tenant, @regions, @device_id, @hash, @created_at, @created_by, @expires_at)',
      )
      .run({ ...record, regions: JSON.stringify(record.regions), hash });
    return { token, record };
  }

  /** Revokes a token at once (the next request with it is refused). */
  revoke(id: string, by: string): TokenRecord | undefined {
    const now = Date.now();
    const info = this.db.prepare('UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL').run(now, by, id);
    return info.changes > 0 ? this.get(id) : undefined;
  }

  get(id: string): TokenRecord | undefined {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(opts: { includeRevoked?: boolean } = {}): TokenRecord[] {
    const sql = opts.includeRevoked ? 'SELECT * FROM api_tokens ORDER BY created_at' : 'SELECT * FROM api_tokens WHERE revoked_at IS NULL ORDER BY created_at';
    return (this.db.prepare(sql).all() as Row[]).map(fromRow);
  }

  /** True when an unrevoked, unexpired admin token exists (else the first start prints a bootstrap token). */
  hasActiveAdmin(now = Date.now()): boolean {
    const row = this.db.prepare("SELECT 1 FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) LIMIT 1").get(now);
    return row !== undefined;
  }

  /** The principal of a presented token, or undefined when unknown, revoked or expired. */
  authenticate(token: string, now = Date.now()): Principal | undefined {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return undefined;
    const row = this.byHashStmt?.get(hashToken(token)) as Row | undefined;
    if (!row) return undefined;
    const r = fromRow(row);
    if (r.expires_at !== null && r.expires_at <= now) return undefined;
    return {
      role: r.role,
      tokenId: r.id,
      name: r.name,
      tenant: r.tenant ?? undefined,
      regions: r.regions,
      deviceId: r.device_id ?? undefined,
    };
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function fromRow(r: Row): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    tenant: r.tenant,
    regions: JSON.parse(r.regions) as string[],
    device_id: r.device_id,
    created_at: r.created_at,
    created_by: r.created_by,
    expires_at: r.expires_at,
    revoked_at: r.revoked_at,
    revoked_by: r.revoked_by,
  };
}
