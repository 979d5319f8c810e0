import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfluxDB, type IPoint } from 'influx';
import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../../../src/lib/prng.js';
import { InfluxV1PointWriter } from '../../../src/storage/influx-v1.js';
import { pointLine } from '../../../src/storage/line-protocol.js';
import type { Point } from '../../../src/storage/point.js';

type Request = { body: string; method: string; url: string; authorization?: string };

/** A loopback HTTP server that answers every request 204 and records it, by the database it wrote to. */
async function recorder(): Promise<{ port: number; sent: Map<string, Request[]>; close(): Promise<void> }> {
  const sent = new Map<string, Request[]>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const db = url.searchParams.get('db') ?? '';
      // The package sends the credentials as u/p query parameters; ours as a Basic header: compare what they say.
      const u = url.searchParams.get('u');
      const authorization = u !== null ? `${u}:${url.searchParams.get('p') ?? ''}` : req.headers.authorization ? Buffer.from(req.headers.authorization.replace(/^Basic /, ''), 'base64').toString() : undefined;
      for (const k of ['u', 'p']) url.searchParams.delete(k);
      url.searchParams.delete('db');
      // The package sends an empty retention policy (`rp=`); InfluxDB reads that as the default, as no rp at all.
      for (const [k, v] of [...url.searchParams]) if (v === '') url.searchParams.delete(k);
      url.searchParams.sort();
      const list = sent.get(db) ?? [];
      list.push({ body, method: req.method ?? '', url: `${url.pathname}?${url.searchParams.toString()}`, authorization });
      sent.set(db, list);
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, sent, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const KEYS = ['gas_type', 'site', 'a b', 'k=v', 'x,y', "it\\'s", '名称', 'tenant', 'device'];
const VALUES = ['CH4', '华润烧烤 攀成钢店', 'a=b', 'c,d', 'back\\slash', "quote\\'d", "twice\\'\\'", '', ' ', 'v1.2'];

function randomPoint(rand: () => number): Point {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const tags: Record<string, string> = {};
  for (let i = 0; i < 4; i++) tags[pick(KEYS)] = pick(VALUES);
  const fields: Record<string, number | boolean> = {};
  for (let i = 0; i < 1 + Math.floor(rand() * 5); i++) fields[pick(['z_last', 'a first', 'concentration_lel', 'k=v', 'alarm', '1'])] = pick([0, -0, 1.5, 1e21, 2 ** 53, 1 / 3, true, false, Number.NaN, Number.POSITIVE_INFINITY]);
  return { measurement: pick(['gas', 'electrical_fire']), tags, fields, timeMs: pick([0, 1_742_020_205_000, 1_700_000_000_123]) };
}

describe('storage/line-protocol (issue 9)', () => {
  test('sends what the influx package sends for the same points, request for request', async () => {
    const server = await recorder();
    try {
      for (const auth of [{}, { username: 'rg', password: 'p@ss' }]) {
        const tag = auth.username ?? 'anon';
        const writer = new InfluxV1PointWriter({ url: `http://127.0.0.1:${server.port}`, database: `ours-${tag}`, createDatabase: false, ...auth });
        await writer.start();
        const reference = new InfluxDB({ host: '127.0.0.1', port: server.port, database: `theirs-${tag}`, ...auth });
        const rand = mulberry32(auth.username ? 2 : 1);
        for (let batch = 0; batch < 200; batch++) {
          const points = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => randomPoint(rand));
          await writer.write(points);
          // What the writer handed the package before (src/storage/influx-v1.ts toInfluxPoint: drops what cannot be written).
          const ipoints: IPoint[] = points
            .map((p) => ({
              measurement: p.measurement,
              tags: Object.fromEntries(Object.entries(p.tags).filter(([, v]) => v !== '')),
              fields: Object.fromEntries(Object.entries(p.fields).filter(([, v]) => typeof v === 'boolean' || Number.isFinite(v))),
              timestamp: p.timeMs,
            }))
            .filter((p) => Object.keys(p.fields).length > 0);
          if (ipoints.length > 0) await reference.writePoints(ipoints, { precision: 'ms' });
        }
        const ours = server.sent.get(`ours-${tag}`) ?? [];
        const theirs = server.sent.get(`theirs-${tag}`) ?? [];
        expect(ours.length).toBeGreaterThan(150);
        // The package sends root:root when no credentials are configured; we send none (InfluxDB with auth off ignores both).
        expect(ours).toEqual(auth.username ? theirs : theirs.map((r) => ({ ...r, authorization: undefined })));
      }
    } finally {
      await server.close();
    }
  });

  test('the field order cached per measurement never leaks into a point with other fields or another order', () => {
    // The reference: the keys of this very point, sorted.
    const expected = (fields: Record<string, number | boolean>): string =>
      `gas,tenant=t1 ${Object.keys(fields)
        .sort()
        .map((k) => `${k.replace(/[,= ]/g, '\\$&')}=${String(fields[k])}`)
        .join(',')} 5`;
    const shapes: Record<string, number | boolean>[] = [
      { b: 1, a: 2, c: true },
      { b: 1, a: 2, c: true },
      { b: 1, a: 2 }, // a prefix of the cached order
      { b: 1, a: 2, c: true, d: 9 }, // the cached order and one more
      { a: 3, b: 4, c: false, d: 1 }, // same keys, other order
      { 'x y': 1, b: 2, a: 3 },
      { b: 1, a: 2, c: true },
      { z: 1 },
    ];
    for (let round = 0; round < 3; round++) for (const f of shapes) expect(pointLine('gas', { tenant: 't1' }, f, 5)).toBe(expected(f));
  });

  test('points encoded when their record is sealed and sent as chunks make the body write() makes of them', async () => {
    const server = await recorder();
    try {
      const direct = new InfluxV1PointWriter({ url: `http://127.0.0.1:${server.port}`, database: 'direct', createDatabase: false });
      const chunked = new InfluxV1PointWriter({ url: `http://127.0.0.1:${server.port}`, database: 'chunked', createDatabase: false });
      await direct.start();
      await chunked.start();
      const rand = mulberry32(7);
      for (let batch = 0; batch < 100; batch++) {
        // A batch of a few records, as the batcher cuts it; some records hold nothing writable (an empty chunk).
        const records = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => Array.from({ length: Math.floor(rand() * 6) }, () => randomPoint(rand)));
        await direct.write(records.flat());
        await chunked.writeEncoded(records.map((r) => chunked.encode(r)));
      }
      const a = server.sent.get('direct') ?? [];
      const b = server.sent.get('chunked') ?? [];
      expect(a.length).toBeGreaterThan(50);
      expect(b.map((r) => r.body)).toEqual(a.map((r) => r.body));
    } finally {
      await server.close();
    }
  });
});
