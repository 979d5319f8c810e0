import { describe, expect, test } from 'vitest';
import {
  decodeBody,
  decodeMessage,
  decodePacket,
  encodeMessage,
  encodeSubpackaged,
  escapeFrame,
  Jt808FrameSplitter,
  Jt808Reassembler,
  MAX_BODY_BYTES,
  MSG,
  NUMERIC_EXTRA_BYTES,
  PHONE_DIGITS,
  xorChecksum,
  type Jt808Body,
  type Jt808HeaderInit,
  type LocationBody,
  type LocationExtra,
} from '../../../src/ingest/jt808/index.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { mulberry32 } from '../../../src/lib/prng.js';

type Rand = () => number;

/** mulberry32: a seeded PRNG, so every run (and every failure) is reproducible. */
const prng: (seed: number) => Rand = mulberry32;

const int = (r: Rand, max: number): number => Math.floor(r() * (max + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length - 1)] as T;

/** A WORD / DWORD that often holds 0x7e or 0x7d bytes, so escaping is exercised everywhere. */
function word(r: Rand, bytes: 1 | 2 | 4): number {
  let v = 0;
  for (let i = 0; i < bytes; i++) v = v * 256 + (r() < 0.3 ? pick(r, [0x7e, 0x7d]) : int(r, 255));
  return v;
}

function randomBytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = r() < 0.3 ? pick(r, [0x7e, 0x7d]) : int(r, 255);
  return b;
}

// `~` is 0x7e and `}` is 0x7d in ASCII (and GBK): strings carry the flag bytes too.
const ALPHABET = ['A', 'Z', '0', '9', '-', '~', '}', '川', '京', '粤', '沪'];

/** A string of at most `maxBytes` GBK bytes, never ending in the 0x00 padding. */
function text(r: Rand, maxBytes: number, ascii = false): string {
  let s = '';
  let bytes = 0;
  const n = int(r, maxBytes);
  while (bytes < n) {
    const ch = ascii ? pick(r, ALPHABET.slice(0, 7)) : pick(r, ALPHABET);
    const w = ch.charCodeAt(0) < 0x80 ? 1 : 2;
    if (bytes + w > n) break;
    s += ch;
    bytes += w;
  }
  return s;
}

function digits(r: Rand, max: number): string {
  let s = '';
  for (let i = int(r, max); i > 0; i--) s += String(int(r, 9));
  return s;
}

function location(r: Rand): LocationBody {
  const extras: LocationExtra[] = [];
  for (let i = int(r, 5); i > 0; i--) {
    if (r() < 0.5) {
      const id = pick(r, Object.keys(NUMERIC_EXTRA_BYTES).map(Number));
      extras.push({ id, value: word(r, NUMERIC_EXTRA_BYTES[id] as 1 | 2 | 4) });
    } else {
      // Unknown ids, and known ids with an odd length, are kept raw.
      const id = r() < 0.8 ? pick(r, [0x11, 0x12, 0x64, 0x7d, 0x7e, 0xe1, 0xff]) : 0x01;
      extras.push({ id, raw: randomBytes(r, id === 0x01 ? 3 : int(r, 12)) });
    }
  }
  return {
    alarmBits: word(r, 4),
    statusBits: word(r, 4),
    latE6: word(r, 4),
    lonE6: word(r, 4),
    altitudeM: word(r, 2),
    speedDeciKmh: word(r, 2),
    direction: word(r, 2),
    // whole seconds, 2000-01-01 … 2099-12-31 Beijing time
    time: (946_656_000 + int(r, 3_155_000_000)) * 1000,
    extras,
  };
}

function randomBody(r: Rand, version: 2013 | 2019): Jt808Body {
  switch (int(r, 10)) {
    case 0:
      return { type: 'heartbeat' };
    case 1:
      return { type: 'logout' };
    case 2:
      return { type: pick(r, ['terminal_general_reply', 'platform_general_reply'] as const), replySeq: word(r, 2), replyMsgId: word(r, 2), result: int(r, 4) };
    case 3: {
      // Under a 2013 header the 2011 layout is told by a body shorter than 37 bytes: keep its plate short.
      const layout = version === 2019 ? 2019 : pick(r, [2011, 2013] as const);
      const sizes = { 2011: [5, 8, 7], 2013: [5, 20, 7], 2019: [11, 30, 30] }[layout];
      return {
        type: 'register',
        layout,
        provinceId: word(r, 2),
        cityId: word(r, 2),
        makerId: text(r, sizes[0] as number),
        model: text(r, sizes[1] as number),
        terminalId: text(r, sizes[2] as number, true),
        plateColor: word(r, 1),
        plate: text(r, layout === 2011 ? 11 : 40),
      };
    }
    case 4: {
      const result = int(r, 4);
      return result === 0 || r() < 0.2 ? { type: 'register_reply', replySeq: word(r, 2), result, authCode: text(r, 40) || 'X' } : { type: 'register_reply', replySeq: word(r, 2), result };
    }
    case 5:
      return version === 2013
        ? { type: 'authenticate', authCode: text(r, 60) }
        : { type: 'authenticate', authCode: text(r, 60), imei: digits(r, 15), softwareVersion: text(r, 20, true) };
    case 6:
    case 7:
      return { type: 'location', ...location(r) };
    case 8:
      return { type: 'location_batch', dataType: int(r, 1), locations: Array.from({ length: int(r, 6) }, () => location(r)) };
    case 9:
      return { type: 'manual_alarm_confirmation', alarmSerial: word(r, 2), alarmType: word(r, 4) };
    default:
      return { type: 'unknown', msgId: pick(r, [0x0107, 0x0801, 0x0900, 0x8103, 0x7e7d]), raw: randomBytes(r, int(r, 300)) };
  }
}

function randomInit(r: Rand): Jt808HeaderInit {
  const version = pick(r, [2013, 2019] as const);
  return { version, phone: digits(r, PHONE_DIGITS[version]), seq: word(r, 2) };
}

/** Feeds `stream` to a splitter in random-sized chunks. */
function split(r: Rand, stream: Buffer): Buffer[] {
  const splitter = new Jt808FrameSplitter();
  const frames: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = 1 + int(r, 64);
    for (const item of splitter.push(stream.subarray(at, at + n))) {
      if (!item.ok) throw new Error(item.error.message);
      frames.push(item.frame);
    }
    at += n;
  }
  expect(splitter.bufferedBytes).toBe(0);
  return frames;
}

const ITERATIONS = 1500;

describe('ingest/jt808 codec round trip (seeded)', () => {
  test(`${ITERATIONS} random messages survive encode → chunked stream → split → reassemble → decode`, () => {
    const r = prng(808);
    const clock = new FakeClock();
    let withFlagBytes = 0;
    let subpackaged = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const init = randomInit(r);
      const body = randomBody(r, init.version);
      const oneFrame = tryEncode(init, body);
      const packetBytes = r() < 0.5 ? 1 + int(r, 63) : 1 + int(r, MAX_BODY_BYTES - 1);
      const frames = oneFrame && r() < 0.6 ? [oneFrame] : encodeSubpackaged(init, body, packetBytes);
      if (frames.length > 1) subpackaged++;
      for (const f of frames) {
        const inner = f.subarray(1, -1);
        expect(inner.includes(0x7e)).toBe(false);
        if (inner.includes(0x7d)) withFlagBytes++;
      }
      // Frames back to back, sometimes with the doubled 0x7e some terminals put between frames.
      const stream = Buffer.concat(frames.flatMap((f) => (r() < 0.3 ? [f, Buffer.from([0x7e])] : [f])));
      const reassembler = new Jt808Reassembler(clock, { maxMessageBytes: 1 << 20 });
      const done = [];
      for (const inner of split(r, stream)) {
        const packet = decodePacket(inner);
        if (!packet.ok) throw new Error(`${i}: ${packet.error.reason} ${packet.error.message}`);
        const res = reassembler.push(packet.value);
        if (res.status === 'error') throw new Error(res.error.message);
        if (res.status === 'complete') done.push(res.packet);
      }
      expect(done).toHaveLength(1);
      const packet = done[0] as NonNullable<(typeof done)[0]>;
      expect(packet.header).toMatchObject({ version: init.version, seq: init.seq, phone: init.phone.padStart(PHONE_DIGITS[init.version], '0') });
      const decoded = decodeBody(packet.header, packet.body);
      if (!decoded.ok) throw new Error(`${i}: ${decoded.error.reason} ${decoded.error.message}`);
      expect(decoded.value, `message ${i}`).toEqual(body);
    }
    expect(withFlagBytes).toBeGreaterThan(ITERATIONS / 2);
    expect(subpackaged).toBeGreaterThan(ITERATIONS / 15); // multi-packet messages
  });

  test('random bytes and corrupted frames never throw and never hit internal_error', () => {
    const r = prng(7);
    const reasons = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      let input: Buffer;
      if (i % 2 === 0) {
        input = Buffer.concat([Buffer.from([0x7e]), randomBytes(r, int(r, 80)), Buffer.from([0x7e])]);
      } else {
        // A valid frame with bytes changed, then given a correct checksum again so the body decoders see garbage.
        const init = randomInit(r);
        const good = tryEncode(init, randomBody(r, init.version)) ?? encodeMessage(init, { type: 'heartbeat' });
        const raw = decodeRaw(good);
        for (let k = int(r, 3); k >= 0; k--) raw[int(r, raw.length - 2)] = int(r, 255);
        const cut = r() < 0.3 ? raw.subarray(0, int(r, raw.length - 1)) : raw.subarray(0, raw.length - 1);
        input = Buffer.concat([Buffer.from([0x7e]), escapeFrame(Buffer.concat([cut, Buffer.from([xorChecksum(cut)])])), Buffer.from([0x7e])]);
      }
      const res = decodeMessage(input);
      if (!res.ok) reasons.add(res.error.reason);
      expect(res.ok || res.error.reason !== 'internal_error').toBe(true);
    }
    expect([...reasons].sort()).toEqual(expect.arrayContaining(['bad_bcd', 'bad_checksum', 'bad_length', 'bad_time', 'truncated']));
  });

  test('a body over 1023 bytes must be subpackaged', () => {
    const init: Jt808HeaderInit = { version: 2013, phone: '1', seq: 0 };
    expect(() => encodeMessage(init, { type: 'unknown', msgId: MSG.LOCATION, raw: Buffer.alloc(1024) })).toThrow(/subpackage it/);
    expect(encodeSubpackaged(init, { type: 'unknown', msgId: MSG.LOCATION, raw: Buffer.alloc(1024) })).toHaveLength(2);
  });
});

function tryEncode(init: Jt808HeaderInit, body: Jt808Body): Buffer | undefined {
  try {
    return encodeMessage(init, body);
  } catch (err) {
    if ((err as Error).message.includes('subpackage it')) return undefined;
    throw err;
  }
}

/** A valid frame's unescaped header + body + checksum. */
function decodeRaw(frame: Buffer): Buffer {
  const inner = frame.subarray(1, -1);
  const out: number[] = [];
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === 0x7d) out.push(inner[++i] === 0x02 ? 0x7e : 0x7d);
    else out.push(inner[i] as number);
  }
  return Buffer.from(out);
}
