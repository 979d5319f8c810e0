import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../../../src/lib/prng.js';
import { BucketCounts, MAX_BUCKET_COUNT } from '../../../src/registry/bucket-counts.js';

describe('registry/bucket-counts', () => {
  test('reads the same counts as a plain Uint16Array, through every widening, for many devices at once', () => {
    const length = 673;
    const store = new BucketCounts(length);
    const rand = mulberry32(7);
    const devices = Array.from({ length: 50 }, () => ({ c: store.allocate(), ref: new Uint16Array(length) }));
    // Readings per bucket by group: the first ten devices pass 255 in a bucket, the next twenty pass 15, the rest neither.
    const perBucket = (k: number): number => (k < 10 ? 400 : k < 30 ? 40 : 10);
    const work: [number, number][] = [];
    devices.forEach((_, k) => {
      for (let i = 0; i < 4; i++) for (let n = 0; n < perBucket(k); n++) work.push([k, Math.floor(rand() * length)]);
      for (let n = 0; n < perBucket(k); n++) work.push([k, 7]);
    });
    for (let j = work.length - 1; j > 0; j--) {
      const r = Math.floor(rand() * (j + 1));
      [work[j], work[r]] = [work[r] as [number, number], work[j] as [number, number]];
    }
    for (const [k, i] of work) {
      const d = devices[k] as (typeof devices)[number];
      if (rand() < 0.001) {
        store.set(d.c, i, 0);
        d.ref[i] = 0;
      } else {
        store.increment(d.c, i);
        d.ref[i] = Math.min(MAX_BUCKET_COUNT, (d.ref[i] as number) + 1);
      }
    }
    for (const d of devices) expect(store.toUint16(d.c, new Uint16Array(length))).toEqual(d.ref);
    expect(new Set(devices.map((d) => d.c.bits))).toEqual(new Set([4, 8, 16]));
  });

  test('widens at 16 and 256 and saturates at 65 535', () => {
    const store = new BucketCounts(5);
    const c = store.allocate();
    for (let n = 0; n < 15; n++) store.increment(c, 1);
    expect([c.bits, store.get(c, 1)]).toEqual([4, 15]);
    store.increment(c, 1);
    expect([c.bits, store.get(c, 1)]).toEqual([8, 16]);
    for (let n = 16; n < 256; n++) store.increment(c, 1);
    expect([c.bits, store.get(c, 1)]).toEqual([16, 256]);
    for (let n = 256; n < 70_000; n++) store.increment(c, 1);
    expect(store.get(c, 1)).toBe(MAX_BUCKET_COUNT);
    expect([store.get(c, 0), store.get(c, 2)]).toEqual([0, 0]);
  });

  test('neighbouring 4-bit counts do not disturb each other', () => {
    const store = new BucketCounts(7);
    const c = store.allocate();
    [3, 15, 0, 9, 1, 12, 7].forEach((v, i) => store.set(c, i, v));
    expect(Array.from({ length: 7 }, (_, i) => store.get(c, i))).toEqual([3, 15, 0, 9, 1, 12, 7]);
  });

  test('stored counts come back as narrow as they allow, and released space is reused zeroed', () => {
    const store = new BucketCounts(4);
    expect(store.fromUint16(Uint16Array.from([1, 15, 0, 2])).bits).toBe(4);
    expect(store.fromUint16(Uint16Array.from([1, 16, 0, 2])).bits).toBe(8);
    const wide = store.fromUint16(Uint16Array.from([1, 300, 0, 2]));
    expect([wide.bits, store.get(wide, 1)]).toEqual([16, 300]);
    const a = store.allocate();
    store.set(a, 2, 9);
    store.release(a);
    const b = store.allocate();
    expect([b.slab, b.at]).toEqual([a.slab, a.at]);
    expect(store.get(b, 2)).toBe(0);
  });
});
