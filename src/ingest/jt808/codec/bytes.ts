import { fail, Jt808EncodeError } from './decode-error.js';

/**
 * Big-endian reader over one buffer (JT/T 808 byte order, domain.md §5.2). Reading past the end fails with
 * `truncated`, naming the field, so decoders need no bounds checks of their own.
 */
export class ByteReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    /** Prefix of every error message: `0x0200 body`, `0x0704 item 2`. */
    readonly what: string,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.buf.length - this.pos < n) {
      fail('truncated', `${this.what}: ${field} needs ${n} byte${n === 1 ? '' : 's'} at offset ${this.pos}, ${this.buf.length - this.pos} left`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++] as number;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** The next `n` bytes, as a view (no copy). */
  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Everything left, as a view. */
  rest(): Buffer {
    const v = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return v;
  }

  /** Fails with `bad_length` when bytes are left after the last field of a fixed-size body. */
  end(): void {
    if (this.pos !== this.buf.length) {
      fail('bad_length', `${this.what}: ${this.buf.length - this.pos} trailing byte${this.buf.length - this.pos === 1 ? '' : 's'} after the last field (body is ${this.buf.length} bytes, expected ${this.pos})`);
    }
  }
}

/** Big-endian writer that grows as needed. Out-of-range values throw {@link Jt808EncodeError}. */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 64) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number, field: string): this {
    checkUint(v, 0xff, field);
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number, field: string): this {
    checkUint(v, 0xffff, field);
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number, field: string): this {
    checkUint(v, 0xffff_ffff, field);
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** `b` right-padded with 0x00 to exactly `n` bytes (fixed-size string fields, domain.md §5.3). */
  padded(b: Uint8Array, n: number, field: string): this {
    if (b.length > n) throw new Jt808EncodeError(`${field} is ${b.length} bytes, the field holds ${n}`);
    this.room(n);
    this.buf.set(b, this.pos);
    this.buf.fill(0, this.pos + b.length, this.pos + n);
    this.pos += n;
    return this;
  }

  /** A copy of what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function checkUint(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Jt808EncodeError(`${field} must be an integer 0–${max}, got ${v}`);
}

/** Trailing 0x00 removed: fixed-size string fields are right-padded with 0x00 (domain.md §5.3). */
export function stripNulPadding(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}
