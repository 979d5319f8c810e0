import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { crc32 } from 'node:zlib';
import { mulberry32 } from '../../../src/lib/prng.js';
import type { Point } from '../../../src/storage/point.js';
import { decodeRecord, encodeRecord, Spool } from '../../../src/storage/spool.js';

/** The record format as docs/reliability.md states it, built the obvious way: the reference for the encoder. */
function reference(seq: number, atMs: number, points: Point[]): Buffer {
  const payload = Buffer.from(JSON.stringify({ a: atMs, p: points.map((p) => [p.measurement, p.tags, p.fields, p.timeMs]) }), 'utf8');
  const buf = Buffer.alloc(20 + payload.length);
  buf.write('RGS1', 0, 'latin1');
  buf.writeUInt32LE(payload.length, 4);
  buf.writeDoubleLE(seq, 12);
  payload.copy(buf, 20);
  buf.writeUInt32LE(crc32(buf.subarray(12)), 8);
  return buf;
}

const STRINGS = ['CH4', '华润烧烤攀成钢店', 'a "quoted" \\ value', 'tab\there', 'line\nbreak', '\u0001ctl', '😀 emoji', '', 'x'.repeat(300)];

function randomPoint(rand: () => number): Point {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const tags: Record<string, string> = { tenant: 'rest-001', device: `gas-${Math.floor(rand() * 1e5)}` };
  for (let i = 0; i < 3; i++) tags[pick(['gas_type', 'site', 'valve_state', '名称'])] = pick(STRINGS);
  const fields: Record<string, number | boolean> = {};
  for (let i = 0; i < 5; i++) fields[pick(['concentration_lel', 'alarm', 'csq', 'temp_c_1', 'lat'])] = pick([0, -0, 1.5, -273.15, 1e21, 2 ** 53, 1 / 3, true, false, 123456.7]);
  return { measurement: pick(['gas', 'smoke', 'vehicle']), tags, fields, timeMs: 1_700_000_000_000 + Math.floor(rand() * 1e9) };
}

describe('storage/spool record encoding (issue 9)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('writes byte for byte the record format of docs/reliability.md', () => {
    const rand = mulberry32(42);
    for (let i = 0; i < 500; i++) {
      const points = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => randomPoint(rand));
      const atMs = 1_700_000_000_000 + i;
      expect(encodeRecord({ seq: i + 1, atMs, points }).equals(reference(i + 1, atMs, points))).toBe(true);
    }
  });

  test('appends through one reused buffer and reads every record back intact, a record larger than it too', () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-spool-enc-'));
    const spool = new Spool({ dir, fsync: 'never' });
    spool.open();
    const rand = mulberry32(9);
    const records = [
      [randomPoint(rand)],
      Array.from({ length: 3000 }, () => randomPoint(rand)), // ~1 MB: more than the reused 256 KiB buffer
      [randomPoint(rand), randomPoint(rand)],
    ];
    const first = spool.append(1, records[0] as Point[]).pos;
    spool.append(2, records[1] as Point[]);
    spool.append(3, records[2] as Point[]);
    const back = spool.read(first, Number.POSITIVE_INFINITY).records;
    expect(back.map((r) => JSON.stringify(r.points))).toEqual(records.map((r) => JSON.stringify(r)));
    for (const r of back) expect(decodeRecord(encodeRecord(r), 0)).toMatchObject({ kind: 'record' });
    spool.close();
  });
});
