import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Point } from '../../../src/storage/point.js';
import { SqlitePointWriter } from '../../../src/storage/sqlite.js';

const BASE_MS = Date.UTC(2025, 2, 15, 6, 0, 0, 0);

function gas(i: number, device = `gas-${i % 4}`): Point {
  return {
    measurement: 'gas',
    tags: { tenant: 'acme', device, region: 'sh-pudong', gas_type: 'methane' },
    fields: { concentration_lel: i * 0.75 + 0.125, fault_code: i, alarm: i % 2 === 0 },
    timeMs: BASE_MS + i * 1001,
  };
}

function dust(i: number): Point {
  return {
    measurement: 'dust',
    tags: { tenant: 'mill', device: `dust-${i % 2}` },
    fields: { concentration_mg_m3: i / 3, spark_detected: false },
    timeMs: BASE_MS + i * 7,
  };
}

describe('storage/sqlite', () => {
  let dir: string;
  let writer: SqlitePointWriter;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-sqlite-'));
    writer = new SqlitePointWriter({ path: join(dir, 'data', 'nested', 'points.db') });
    await writer.start();
  });

  afterEach(async () => {
    await writer.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('start creates the file and its parent directories, in WAL mode', async () => {
    const path = join(dir, 'data', 'nested', 'points.db');
    expect(existsSync(path)).toBe(true);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    expect(await writer.ping()).toBe(true);
  });

  test('written points read back with equal tags, values and times', async () => {
    const gasPoints = Array.from({ length: 200 }, (_, i) => gas(i));
    const dustPoints = Array.from({ length: 50 }, (_, i) => dust(i));
    await writer.write(gasPoints.slice(0, 120));
    await writer.write([...gasPoints.slice(120), ...dustPoints]);

    expect(writer.count()).toBe(250);
    expect(writer.count('gas')).toBe(200);
    expect(writer.query({ measurement: 'gas', limit: 1000 })).toEqual(gasPoints);
    expect(writer.query({ measurement: 'dust' })).toEqual(dustPoints);
    const back = writer.query({ measurement: 'gas', limit: 1 })[0];
    expect(typeof back?.fields.alarm).toBe('boolean');
    expect(Number.isInteger(back?.fields.fault_code)).toBe(true);
  });

  test('query filters by tenant, device and an inclusive time range', async () => {
    await writer.write(Array.from({ length: 40 }, (_, i) => gas(i)));
    const got = writer.query({ measurement: 'gas', tenant: 'acme', device: 'gas-1', fromMs: gas(5).timeMs, toMs: gas(21).timeMs });
    expect(got).toEqual([5, 9, 13, 17, 21].map((i) => gas(i)));
    expect(writer.query({ measurement: 'gas', tenant: 'nobody' })).toEqual([]);
    expect(writer.query({ measurement: 'gas', limit: 3 })).toEqual([gas(0), gas(1), gas(2)]);
  });

  test('a re-delivered point collapses onto the stored one (same identity, last write wins)', async () => {
    await writer.write([gas(1), gas(2)]);
    const redelivered = { ...gas(1), fields: { ...gas(1).fields, concentration_lel: 99 } };
    await writer.write([redelivered, gas(1, 'gas-other')]);
    expect(writer.count('gas')).toBe(3);
    expect(writer.query({ measurement: 'gas', device: 'gas-1' })).toEqual([redelivered]);
  });

  test('a batch is one transaction: a failing point leaves nothing of its batch behind', async () => {
    const bad = { ...gas(3), timeMs: 'not a time' as unknown as number };
    await expect(writer.write([gas(1), bad])).rejects.toThrow();
    expect(writer.count()).toBe(0);
  });
});
