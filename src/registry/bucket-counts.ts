/** Where one device's bucket counts live: a shared slab, the offset of its first count, the bits per count. */
export interface Counts {
  slab: Uint8Array | Uint16Array;
  /** Offset in `slab`, in elements. */
  at: number;
  bits: 4 | 8 | 16;
}

/** Counts saturate here: 65 535 readings in one bucket is far beyond any device's reporting rate. */
export const MAX_BUCKET_COUNT = 0xffff;
/** Devices whose counts share one ArrayBuffer: a buffer of its own per device cost ~0.4 KB more each (issue 9). */
const DEVICES_PER_SLAB = 1024;

/** Free space of one width: the current slab, how many devices it holds, and counts given back. */
interface Pool {
  slab?: Uint8Array | Uint16Array;
  used: number;
  spare: { slab: Uint8Array | Uint16Array; at: number }[];
}

/**
 * Fixed-length count arrays (one per device, `length` buckets) in shared slabs, as narrow as the counts allow: a
 * device starts with 4 bits per bucket (up to 15 readings in a bucket: one every minute in 15 min), is widened to a
 * byte when a bucket passes 15 and to 16 bits when one passes 255 (issue 9: 100 000 devices × 7 days of 15-min
 * buckets took 130 MiB as Uint16Arrays of their own; most devices report every few minutes and need a quarter of it).
 * Counts read the same whatever the width.
 */
export class BucketCounts {
  readonly length: number;
  private readonly pools: Record<4 | 8 | 16, Pool> = { 4: { used: 0, spare: [] }, 8: { used: 0, spare: [] }, 16: { used: 0, spare: [] } };

  constructor(length: number) {
    this.length = length;
  }

  /** Zeroed counts of `bits` (4 for a new device). */
  allocate(bits: 4 | 8 | 16 = 4): Counts {
    const pool = this.pools[bits];
    const size = this.sizeOf(bits);
    const spare = pool.spare.pop();
    if (spare) {
      spare.slab.fill(0, spare.at, spare.at + size);
      return { slab: spare.slab, at: spare.at, bits };
    }
    if (!pool.slab || pool.used === DEVICES_PER_SLAB) {
      pool.slab = bits === 16 ? new Uint16Array(size * DEVICES_PER_SLAB) : new Uint8Array(size * DEVICES_PER_SLAB);
      pool.used = 0;
    }
    return { slab: pool.slab, at: size * pool.used++, bits };
  }

  /** Gives the space back (the device was forgotten). */
  release(c: Counts): void {
    this.pools[c.bits].spare.push({ slab: c.slab, at: c.at });
  }

  get(c: Counts, i: number): number {
    if (c.bits !== 4) return c.slab[c.at + i] as number;
    const byte = c.slab[c.at + (i >> 1)] as number;
    return i & 1 ? byte >> 4 : byte & 0x0f;
  }

  set(c: Counts, i: number, value: number): void {
    if (c.bits !== 4) {
      c.slab[c.at + i] = value;
      return;
    }
    const j = c.at + (i >> 1);
    const byte = c.slab[j] as number;
    c.slab[j] = i & 1 ? (byte & 0x0f) | (value << 4) : (byte & 0xf0) | value;
  }

  /** One more in bucket `i`, widening the device's counts first when they cannot hold it; saturates. */
  increment(c: Counts, i: number): void {
    const n = this.get(c, i);
    if (n >= MAX_BUCKET_COUNT) return;
    if ((c.bits === 4 && n === 0x0f) || (c.bits === 8 && n === 0xff)) this.widen(c, c.bits === 4 ? 8 : 16);
    this.set(c, i, n + 1);
  }

  /** Copies the counts into `out` (length `this.length`): the stored form. */
  toUint16(c: Counts, out: Uint16Array): Uint16Array {
    if (c.bits === 16) out.set(c.slab.subarray(c.at, c.at + this.length));
    else for (let i = 0; i < this.length; i++) out[i] = this.get(c, i);
    return out;
  }

  /** Counts holding `stored`, as narrow as its largest count allows. */
  fromUint16(stored: Uint16Array): Counts {
    let max = 0;
    for (const n of stored) if (n > max) max = n;
    const c = this.allocate(max > 0xff ? 16 : max > 0x0f ? 8 : 4);
    for (let i = 0; i < this.length; i++) this.set(c, i, stored[i] as number);
    return c;
  }

  private widen(c: Counts, bits: 8 | 16): void {
    const wider = this.allocate(bits);
    for (let i = 0; i < this.length; i++) this.set(wider, i, this.get(c, i));
    this.release(c);
    c.slab = wider.slab;
    c.at = wider.at;
    c.bits = bits;
  }

  private sizeOf(bits: 4 | 8 | 16): number {
    return bits === 4 ? Math.ceil(this.length / 2) : this.length;
  }
}
