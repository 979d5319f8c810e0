import { FLAG, MAX_ESCAPED_FRAME_BYTES } from './constants.js';
import type { Jt808DecodeError } from './decode-error.js';

/** Options of {@link Jt808FrameSplitter}. */
export interface FrameSplitterOptions {
  /**
   * Largest escaped frame between two 0x7e, bytes. Default 2090 (`MAX_ESCAPED_FRAME_BYTES`: a 21-byte header, a
   * 1023-byte body and the checksum, every byte escaped). Also the most the splitter ever buffers.
   */
  maxFrameBytes: number;
}

export const DEFAULT_FRAME_SPLITTER_OPTIONS: FrameSplitterOptions = { maxFrameBytes: MAX_ESCAPED_FRAME_BYTES };

/** One item out of the stream: the escaped bytes between two 0x7e (for `decodePacket`), or an `oversized` error. */
export type SplitItem = { ok: true; frame: Buffer } | { ok: false; error: Jt808DecodeError };

/**
 * Cuts a TCP byte stream into frames (domain.md §5.2). Every 0x7e is a boundary: a frame may arrive in pieces over
 * several chunks, several frames may share a chunk, and empty segments (`7e 7e` between frames) are skipped. Bytes
 * before the first 0x7e come out as a segment of their own and fail to decode, which counts them.
 * A segment growing past `maxFrameBytes` yields one `oversized` error and is discarded up to the next 0x7e, so the
 * buffer never holds more than `maxFrameBytes`.
 */
export class Jt808FrameSplitter {
  private readonly opts: FrameSplitterOptions;
  private parts: Buffer[] = [];
  private length = 0;
  private discarding = false;

  constructor(opts: Partial<FrameSplitterOptions> = {}) {
    this.opts = { ...DEFAULT_FRAME_SPLITTER_OPTIONS, ...opts };
  }

  /** Bytes held for an unfinished frame. */
  get bufferedBytes(): number {
    return this.length;
  }

  /** Feeds one chunk; returns the frames (and errors) it completes, in stream order. */
  push(chunk: Buffer): SplitItem[] {
    const out: SplitItem[] = [];
    let start = 0;
    for (;;) {
      const idx = chunk.indexOf(FLAG, start);
      if (idx === -1) {
        this.append(chunk.subarray(start), out);
        return out;
      }
      this.append(chunk.subarray(start, idx), out);
      this.boundary(out);
      start = idx + 1;
    }
  }

  /** Drops any unfinished frame. */
  reset(): void {
    this.parts = [];
    this.length = 0;
    this.discarding = false;
  }

  private append(part: Buffer, out: SplitItem[]): void {
    if (part.length === 0 || this.discarding) return;
    if (this.length + part.length > this.opts.maxFrameBytes) {
      out.push({
        ok: false,
        error: { reason: 'oversized', message: `no 0x7e within ${this.opts.maxFrameBytes} bytes: a frame between delimiters holds at most ${this.opts.maxFrameBytes} escaped bytes` },
      });
      this.parts = [];
      this.length = 0;
      this.discarding = true;
      return;
    }
    this.parts.push(part);
    this.length += part.length;
  }

  private boundary(out: SplitItem[]): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    if (this.length === 0) return;
    const frame = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    out.push({ ok: true, frame });
  }
}
