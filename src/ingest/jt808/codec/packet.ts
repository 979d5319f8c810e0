import { ByteReader, ByteWriter } from './bytes.js';
import { FLAG, MIN_HEADER_BYTES, SUPPORTED_PROTOCOL_VERSIONS } from './constants.js';
import { decodeSafely, fail, type DecodeResult } from './decode-error.js';
import { escapeFrame, unescapeFrame, xorChecksum } from './framing.js';
import { readHeader, writeHeader, type Jt808Header, type Jt808HeaderInit } from './header.js';

/** One frame, unescaped and checked: header and (still encoded) body bytes. */
export interface Jt808Packet {
  header: Jt808Header;
  body: Buffer;
}

/**
 * Decodes the escaped bytes between two 0x7e (what the frame splitter yields): unescape, checksum, header, body
 * length. The body is not interpreted here (see `decodeBody`).
 */
export function decodePacket(escaped: Buffer): DecodeResult<Jt808Packet> {
  let header: Jt808Header | undefined;
  return decodeSafely(() => {
    const raw = unescapeFrame(escaped);
    // header + checksum at the least
    if (raw.length < MIN_HEADER_BYTES + 1) fail('truncated', `frame is ${raw.length} bytes unescaped, a header and checksum need at least ${MIN_HEADER_BYTES + 1}`);
    const sum = xorChecksum(raw, 0, raw.length - 1);
    const sent = raw[raw.length - 1] as number;
    if (sum !== sent) fail('bad_checksum', `checksum is 0x${hex2(sum)}, frame says 0x${hex2(sent)}`);
    const r = new ByteReader(raw.subarray(0, raw.length - 1), 'header');
    header = readHeader(r);
    if (header.version === 2019 && !SUPPORTED_PROTOCOL_VERSIONS.includes(header.protocolVersion as number)) {
      fail('unknown_version', `2019 protocol version byte is ${header.protocolVersion}, supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
    }
    // JT/T 808 §4.4.3 body_props: bits 10–12 name an encryption (bit10 = RSA); we hold no keys.
    if (header.encryption !== 0) fail('unsupported_encryption', `body_props encryption bits are ${header.encryption.toString(2).padStart(3, '0')}`);
    const body = r.rest();
    if (body.length < header.bodyLength) fail('truncated', `body_props says ${header.bodyLength} body bytes, frame holds ${body.length}`);
    if (body.length > header.bodyLength) fail('bad_length', `body_props says ${header.bodyLength} body bytes, frame holds ${body.length}`);
    return { header, body };
  }, () => header);
}

/** Decodes one whole frame, 0x7e delimiters included. */
export function decodeFrame(frame: Buffer): DecodeResult<Jt808Packet> {
  if (frame.length < 2 || frame[0] !== FLAG || frame[frame.length - 1] !== FLAG) {
    return { ok: false, error: { reason: 'bad_frame', message: `a frame starts and ends with 0x7e; got ${frame.length} bytes starting 0x${hex2(frame[0] ?? 0)}` } };
  }
  return decodePacket(frame.subarray(1, frame.length - 1));
}

/** header + body → checksum → escape → 0x7e … 0x7e. Throws `Jt808EncodeError` on values no header can carry. */
export function encodePacket(msgId: number, init: Jt808HeaderInit, body: Buffer): Buffer {
  const w = new ByteWriter(body.length + 24);
  writeHeader(w, msgId, init, body.length);
  w.bytes(body);
  const raw = w.toBuffer();
  const withSum = Buffer.allocUnsafe(raw.length + 1);
  raw.copy(withSum);
  withSum[raw.length] = xorChecksum(raw);
  const esc = escapeFrame(withSum);
  const out = Buffer.allocUnsafe(esc.length + 2);
  out[0] = FLAG;
  esc.copy(out, 1);
  out[out.length - 1] = FLAG;
  return out;
}

/** Header init that answers `h` in the same edition, to the same phone. */
export function replyHeaderInit(h: Jt808Header, seq: number): Jt808HeaderInit {
  const init: Jt808HeaderInit = { version: h.version, phone: h.phone, seq };
  if (h.protocolVersion !== undefined) init.protocolVersion = h.protocolVersion;
  return init;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
