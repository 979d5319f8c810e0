import { describe, expect, test } from 'vitest';
import {
  decodeFrame,
  decodeMessage,
  DECODE_REASONS,
  encodeMessage,
  escapeFrame,
  Jt808FrameSplitter,
  Jt808Reassembler,
  xorChecksum,
  type Jt808DecodeReason,
} from '../../../src/ingest/jt808/index.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { hex } from './frames.js';

const PHONE_2013 = hex('01 39 12 34 56 78');
const PHONE_2019 = hex('00 00 00 00 01 39 12 34 56 78');

/** 2013 header + body with a correct checksum and escaping; `props` overrides body_props (length, flags). */
function frame2013(msgId: number, body: Buffer, props = body.length, phone = PHONE_2013): Buffer {
  const raw = Buffer.concat([u16(msgId), u16(props), phone, u16(1), body]);
  return wrap(raw);
}

/** 2019 header (version byte given) + body. */
function frame2019(msgId: number, body: Buffer, version = 1, props = 0x4000 | body.length): Buffer {
  return wrap(Buffer.concat([u16(msgId), u16(props), Buffer.from([version]), PHONE_2019, u16(1), body]));
}

function wrap(raw: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x7e]), escapeFrame(Buffer.concat([raw, Buffer.from([xorChecksum(raw)])])), Buffer.from([0x7e])]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** Frame C's 28-byte base: 2024-03-15 02:35:10. */
const BASE = hex('00000002004C000301D3CB8C0633EB3001F40358005A240315023510');
const withTime = (t: string): Buffer => Buffer.concat([BASE.subarray(0, 22), hex(t)]);
const item = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);

interface Case {
  name: string;
  frame: Buffer;
  reason: Jt808DecodeReason;
  message: RegExp;
  /** Whether the header was read (so the platform can answer 0x8001 result 2/3). */
  header: boolean;
}

const CASES: Case[] = [
  { name: 'bytes without delimiters', frame: hex('000200000139123456780001 4F'), reason: 'bad_frame', message: /starts and ends with 0x7e/, header: false },
  { name: 'a lone 0x7e', frame: hex('7E'), reason: 'bad_frame', message: /got 1 bytes/, header: false },
  { name: '0x7d followed by 0x03', frame: hex('7E 00 02 00 00 01 39 12 34 56 78 00 7D 03 4F 7E'), reason: 'bad_escape', message: /0x7d at offset 11 is followed by 0x03/, header: false },
  { name: '0x7d ending the frame', frame: hex('7E 00 02 00 00 01 39 12 34 56 78 00 01 4F 7D 7E'), reason: 'bad_escape', message: /0x7d at offset 13 ends the frame/, header: false },
  { name: 'a bare 0x7e inside', frame: hex('7E 00 02 00 00 01 39 7E 34 56 78 00 01 4F 7E'), reason: 'bad_escape', message: /bare 0x7e at offset 6/, header: false },
  { name: 'a wrong checksum', frame: hex('7E 00 02 00 00 01 39 12 34 56 78 00 7D 01 4E 7E'), reason: 'bad_checksum', message: /checksum is 0x4f, frame says 0x4e/, header: false },
  { name: 'a header cut short', frame: wrap(hex('00 02 00 00 01 39 12 34')), reason: 'truncated', message: /a header and checksum need at least 13/, header: false },
  { name: 'a 2019 header cut in the phone', frame: wrap(hex('00 02 40 00 01 00 00 00 00 01 39 12 34')), reason: 'truncated', message: /terminal phone needs 10 bytes/, header: false },
  { name: 'a subpackaged header without its index', frame: wrap(Buffer.concat([hex('0200 2000'), PHONE_2013, u16(1), u16(2)])), reason: 'truncated', message: /pkg_index needs 2 bytes/, header: false },
  { name: 'a body shorter than body_props says', frame: frame2013(0x0001, hex('00 01 02'), 5), reason: 'truncated', message: /says 5 body bytes, frame holds 3/, header: true },
  { name: 'a body longer than body_props says', frame: frame2013(0x0002, hex('00 00'), 0), reason: 'bad_length', message: /says 0 body bytes, frame holds 2/, header: true },
  { name: 'a heartbeat with a body', frame: frame2013(0x0002, hex('00')), reason: 'bad_length', message: /0x0002 body: 1 trailing byte/, header: true },
  { name: 'a 6-byte 0x0001', frame: frame2013(0x0001, hex('00 01 01 02 00 FF')), reason: 'bad_length', message: /1 trailing byte/, header: true },
  { name: 'a 0x0200 of 20 bytes', frame: frame2013(0x0200, BASE.subarray(0, 20)), reason: 'truncated', message: /0x0200 body: direction needs 2 bytes at offset 20/, header: true },
  { name: 'an extra running past the body', frame: frame2013(0x0200, Buffer.concat([BASE, hex('01 04 00 00')])), reason: 'truncated', message: /extra 0x01 value needs 4 bytes/, header: true },
  { name: 'an extra id without its length', frame: frame2013(0x0200, Buffer.concat([BASE, hex('30')])), reason: 'truncated', message: /extra 0x30 length/, header: true },
  { name: 'a 0x0704 announcing 2 items with 1', frame: frame2013(0x0704, Buffer.concat([hex('0002 01'), item(BASE)])), reason: 'truncated', message: /item 1 length needs 2 bytes/, header: true },
  { name: 'a 0x0704 with bytes after its items', frame: frame2013(0x0704, Buffer.concat([hex('0001 00'), item(BASE), hex('00')])), reason: 'bad_length', message: /1 bytes left after the 1 items/, header: true },
  { name: 'a 0x0704 item of 10 bytes', frame: frame2013(0x0704, Buffer.concat([hex('0001 00'), item(BASE.subarray(0, 10))])), reason: 'bad_length', message: /item 0: length 10, a 0x0200 body has at least 28/, header: true },
  { name: 'a 0x0704 item with a bad time', frame: frame2013(0x0704, Buffer.concat([hex('0001 00'), item(withTime('241315023510'))])), reason: 'bad_time', message: /0x0704 item 0: time: 24-13-15 02:35:10 is not a valid/, header: true },
  { name: 'a 2019 0x0102 whose code_len overruns', frame: frame2019(0x0102, Buffer.concat([hex('09'), Buffer.from('AUTH2019'), Buffer.alloc(35)])), reason: 'truncated', message: /code_len 9 \+ IMEI 15 \+ software version 20 = 44 bytes, body holds 43/, header: true },
  { name: 'a 2019 0x0102 with a trailing byte', frame: frame2019(0x0102, Buffer.concat([hex('08'), Buffer.from('AUTH2019'), Buffer.alloc(36)])), reason: 'bad_length', message: /body holds 44 after code_len/, header: true },
  { name: 'a phone digit above 9', frame: frame2013(0x0002, Buffer.alloc(0), 0, hex('01 39 12 3A 56 78')), reason: 'bad_bcd', message: /terminal phone: byte 3 is 0x3a/, header: false },
  { name: 'a time digit above 9', frame: frame2013(0x0200, withTime('2A0315023510')), reason: 'bad_bcd', message: /time: byte 0 is 0x2a/, header: true },
  { name: 'month 13', frame: frame2013(0x0200, withTime('241315023510')), reason: 'bad_time', message: /24-13-15 02:35:10 is not a valid date and time/, header: true },
  { name: '30 February', frame: frame2013(0x0200, withTime('240230023510')), reason: 'bad_time', message: /24-02-30/, header: true },
  { name: 'an all-zero time', frame: frame2013(0x0200, withTime('000000000000')), reason: 'bad_time', message: /00-00-00 00:00:00/, header: true },
  { name: 'hour 24', frame: frame2013(0x0200, withTime('240315240000')), reason: 'bad_time', message: /24:00:00/, header: true },
  { name: 'a 2019 protocol version 2', frame: frame2019(0x0002, Buffer.alloc(0), 2), reason: 'unknown_version', message: /version byte is 2, supported: 1/, header: true },
  { name: 'an RSA-encrypted body', frame: frame2013(0x0200, BASE, 0x0400 | BASE.length), reason: 'unsupported_encryption', message: /encryption bits are 001/, header: true },
  {
    name: 'a subpackage given to decodeMessage',
    frame: wrap(Buffer.concat([hex('0200 2000'), PHONE_2013, u16(1), u16(2), u16(1)])),
    reason: 'bad_subpackage',
    message: /packet 1\/2 of a subpackaged message: reassemble it first/,
    header: true,
  },
];

describe('ingest/jt808 malformed input', () => {
  test.each(CASES)('$name is rejected as $reason', ({ frame, reason, message, header }) => {
    const res = decodeMessage(frame);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.reason).toBe(reason);
    expect(res.error.message).toMatch(message);
    expect(res.error.header !== undefined).toBe(header);
  });

  test('every reason but internal_error and oversized has a case above; the two bounds are tested below', () => {
    const covered = new Set<string>(CASES.map((c) => c.reason));
    expect(Object.keys(DECODE_REASONS).filter((r) => !covered.has(r))).toEqual(['oversized', 'internal_error']);
  });

  test('a frame longer than the splitter bound is oversized, and the splitter recovers at the next 0x7e', () => {
    const splitter = new Jt808FrameSplitter({ maxFrameBytes: 64 });
    const items = splitter.push(Buffer.concat([hex('7E'), Buffer.alloc(100, 0x41)]));
    expect(items).toEqual([{ ok: false, error: { reason: 'oversized', message: expect.stringMatching(/no 0x7e within 64 bytes/) } }]);
    expect(splitter.bufferedBytes).toBe(0);
    const heartbeat = encodeMessage({ version: 2013, phone: '13912345678', seq: 1 }, { type: 'heartbeat' });
    const next = splitter.push(Buffer.concat([Buffer.alloc(500, 0x41), heartbeat]));
    expect(next).toEqual([{ ok: true, frame: heartbeat.subarray(1, -1) }]);
  });

  test('a subpackaged message larger than the reassembly bound is oversized', () => {
    const reassembler = new Jt808Reassembler(new FakeClock(), { maxMessageBytes: 100 });
    // seq = index, total 2, index: two consecutive packets of one message, 60 body bytes each
    const enc = (index: number): Buffer => wrap(Buffer.concat([hex('0200'), u16(0x2000 | 60), PHONE_2013, u16(index), u16(2), u16(index), Buffer.alloc(60)]));
    const p1 = decodeFrame(enc(1));
    const p2 = decodeFrame(enc(2));
    if (!p1.ok || !p2.ok) throw new Error('fixture');
    expect(reassembler.push(p1.value)).toEqual({ status: 'pending' });
    const res = reassembler.push(p2.value);
    expect(res).toMatchObject({ status: 'error', error: { reason: 'oversized', message: 'subpackaged 0x0200 exceeds 100 bytes' } });
  });
});
