import type { ByteReader, ByteWriter } from '../bytes.js';

/** 0x0001 terminal / 0x8001 platform general reply, 5 bytes (domain.md §5.3). */
export interface GeneralReplyBody {
  /** msg_seq of the message answered. */
  replySeq: number;
  /** msg_id of the message answered. */
  replyMsgId: number;
  /** See `GENERAL_RESULT`: 0 ok, 1 failure, 2 malformed, 3 unsupported, 4 alarm handled (0x8001 only). */
  result: number;
}

export function readGeneralReply(r: ByteReader): GeneralReplyBody {
  const body = { replySeq: r.u16('reply_seq'), replyMsgId: r.u16('reply_id'), result: r.u8('result') };
  r.end();
  return body;
}

export function writeGeneralReply(w: ByteWriter, b: GeneralReplyBody): void {
  w.u16(b.replySeq, 'reply_seq').u16(b.replyMsgId, 'reply_id').u8(b.result, 'result');
}
