import { describe, expect, test } from 'vitest';
import { encodeMessage, Jt808FrameSplitter, MAX_ESCAPED_FRAME_BYTES, type SplitItem } from '../../../src/ingest/jt808/index.js';
import { hex } from './frames.js';

const B1 = hex('7E 00 02 00 00 01 39 12 34 56 78 00 7D 01 4F 7E');
const inner = (f: Buffer): Buffer => f.subarray(1, -1);
const frames = (items: SplitItem[]): string[] => items.map((i) => (i.ok ? i.frame.toString('hex') : `error:${i.error.reason}`));

describe('ingest/jt808/codec/frame-splitter', () => {
  test('a frame cut at every byte boundary comes out whole, once', () => {
    for (let cut = 1; cut < B1.length; cut++) {
      const s = new Jt808FrameSplitter();
      const out = [...s.push(B1.subarray(0, cut)), ...s.push(B1.subarray(cut))];
      expect(frames(out), `cut at ${cut}`).toEqual([inner(B1).toString('hex')]);
    }
  });

  test('a frame fed one byte at a time comes out once, at its closing 0x7e', () => {
    const s = new Jt808FrameSplitter();
    const out: SplitItem[] = [];
    for (const b of B1) out.push(...s.push(Buffer.from([b])));
    expect(frames(out)).toEqual([inner(B1).toString('hex')]);
  });

  test('frames concatenated in one chunk, with and without a doubled 0x7e between them, come out in order', () => {
    const a = encodeMessage({ version: 2013, phone: '1', seq: 1 }, { type: 'heartbeat' });
    const b = encodeMessage({ version: 2019, phone: '2', seq: 2 }, { type: 'logout' });
    const out = new Jt808FrameSplitter().push(Buffer.concat([a, b, hex('7E 7E'), a]));
    expect(frames(out)).toEqual([inner(a), inner(b), inner(a)].map((f) => f.toString('hex')));
  });

  test('bytes before the first 0x7e come out as a segment of their own (which fails to decode and is counted)', () => {
    const out = new Jt808FrameSplitter().push(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), B1]));
    expect(frames(out)).toEqual([Buffer.from('GET / HTTP/1.1\r\n').toString('hex'), inner(B1).toString('hex')]);
  });

  test('an unfinished frame stays buffered, bounded by maxFrameBytes', () => {
    const s = new Jt808FrameSplitter();
    expect(s.push(B1.subarray(0, 8))).toEqual([]);
    expect(s.bufferedBytes).toBe(7);
    s.reset();
    expect(s.bufferedBytes).toBe(0);
    const flood = new Jt808FrameSplitter();
    const out: SplitItem[] = [];
    for (let i = 0; i < 100; i++) out.push(...flood.push(Buffer.alloc(1000, 0x41)));
    expect(frames(out)).toEqual(['error:oversized']);
    expect(flood.bufferedBytes).toBe(0);
  });

  test('the default bound holds the largest legal frame: 1023-byte body, 2019 subpackaged header, every byte escaped', () => {
    const frame = encodeMessage(
      { version: 2019, phone: '7'.repeat(20), seq: 0x7e7e, subpackage: { total: 0x7e7e, index: 0x7d7d } },
      { type: 'unknown', msgId: 0x7e7e, raw: Buffer.alloc(1023, 0x7e) },
    );
    expect(frame.length - 2).toBeLessThanOrEqual(MAX_ESCAPED_FRAME_BYTES);
    expect(frames(new Jt808FrameSplitter().push(frame))).toEqual([inner(frame).toString('hex')]);
  });
});
