import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDb = Database.Database;

/**
 * Opens (creating) a SQLite file in WAL mode. `synchronous=NORMAL` in WAL mode never corrupts the file on a crash;
 * a power loss may lose the last transactions (docs/reliability.md).
 */
export function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Applies the not-yet-applied migrations of one area (`registry`, `alerts`, …), each in a transaction.
 * Migrations are append-only: never edit one that has shipped.
 */
export function migrate(db: SqliteDb, area: string, migrations: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (area TEXT NOT NULL, version INTEGER NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (area, version))');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE area = ?').get(area) as { v: number | null };
  const current = row.v ?? 0;
  const record = db.prepare('INSERT INTO schema_migrations (area, version, applied_at) VALUES (?, ?, ?)');
  for (let v = current + 1; v <= migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v - 1] as string);
      record.run(area, v, Date.now());
    })();
  }
}
