import { describe, expect, test } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  GENERAL_RESULT,
  MSG,
  REGISTER_RESULT,
  replyHeaderInit,
  type Jt808Header,
} from '../../../src/ingest/jt808/index.js';
import { hex, WORKED_FRAMES } from './frames.js';

describe('ingest/jt808 worked frames (domain.md §5.7)', () => {
  test.each(WORKED_FRAMES)('$name decodes to the documented fields', ({ frame, header, body }) => {
    const res = decodeMessage(frame);
    if (!res.ok) throw new Error(`${res.error.reason}: ${res.error.message}`);
    expect(res.value.header).toMatchObject(header);
    expect(res.value.body).toEqual(body);
  });

  test.each(WORKED_FRAMES)('$name re-encodes byte for byte', ({ frame }) => {
    const res = decodeMessage(frame);
    if (!res.ok) throw new Error(res.error.message);
    const again = encodeMessage(replyHeaderInit(res.value.header, res.value.header.seq), res.value.body);
    expect(again.toString('hex').toUpperCase()).toBe(frame.toString('hex').toUpperCase());
  });

  test('the platform replies of §5.7 come out of the encoder from their field values', () => {
    const reg = { version: 2019, phone: '13912345678', seq: 1 } as const;
    expect(encodeMessage(reg, { type: 'register_reply', replySeq: 1, result: REGISTER_RESULT.OK, authCode: 'AUTH2019' })).toEqual(
      hex('7E8100400B010000000001391234567800010001004155544832303139F97E'),
    );
    expect(encodeMessage({ ...reg, seq: 2 }, { type: 'platform_general_reply', replySeq: 2, replyMsgId: MSG.AUTHENTICATE, result: GENERAL_RESULT.OK })).toEqual(
      hex('7E80014005010000000001391234567800020002010200F67E'),
    );
    // B2: reply_seq 0x007D and the checksum path both go through escaping.
    expect(encodeMessage({ version: 2013, phone: '13912345678', seq: 0x100 }, { type: 'platform_general_reply', replySeq: 0x7d, replyMsgId: MSG.HEARTBEAT, result: 0 })).toEqual(
      hex('7E 80 01 00 05 01 39 12 34 56 78 01 00 00 7D 01 00 02 00 CA 7E'),
    );
  });

  test('a terminal frame whose checksum is 0x7E sends it as 7D 02', () => {
    // Search a 2013 heartbeat seq whose checksum is 0x7e (domain.md §5.2 test vector shape).
    for (let seq = 0; seq < 0x10000; seq++) {
      const frame = encodeMessage({ version: 2013, phone: '13912345678', seq }, { type: 'heartbeat' });
      const raw = frame.subarray(1, -1);
      if (raw[raw.length - 2] === 0x7d && raw[raw.length - 1] === 0x02) {
        const res = decodeMessage(frame);
        expect(res.ok && (res.value.header as Jt808Header).seq).toBe(seq);
        return;
      }
    }
    throw new Error('no seq gives checksum 0x7e');
  });
});
