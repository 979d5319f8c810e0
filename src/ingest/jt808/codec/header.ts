import { decodeBcd, encodeBcd } from './bcd.js';
import type { ByteReader, ByteWriter } from './bytes.js';
import {
  MAX_BODY_BYTES,
  PHONE_DIGITS,
  PROPS_BODY_LENGTH_MASK,
  PROPS_ENCRYPTION_MASK,
  PROPS_SUBPACKAGE,
  PROPS_VERSION_FLAG,
  type Jt808Version,
} from './constants.js';
import { Jt808EncodeError } from './decode-error.js';

/** Subpackage fields (body_props bit13): `index` counts from 1 (domain.md §5.2). */
export interface Jt808Subpackage {
  total: number;
  index: number;
}

/** A decoded message header (domain.md §5.2 table "Header"). */
export interface Jt808Header {
  msgId: number;
  /** 2019 when body_props bit14 is set, else 2013 (which also covers 2011). */
  version: Jt808Version;
  /** The 2019 header's protocol version byte (1); absent for 2013. */
  protocolVersion?: number;
  /** Terminal phone as sent: 12 BCD digits (2013) or 20 (2019), leading zeros kept. See `normalizePhone`. */
  phone: string;
  /** Message serial number (流水号) of the sender, 0–65535, wraps. */
  seq: number;
  /** Body length from body_props bits 0–9 (of this packet, when subpackaged). */
  bodyLength: number;
  /** body_props bits 10–12; anything but 0 is refused by the decoder. */
  encryption: number;
  /** Present when body_props bit13 is set. */
  subpackage?: Jt808Subpackage;
}

/** What an encoder needs of a header; msg id and body length come from the body. */
export interface Jt808HeaderInit {
  version: Jt808Version;
  /** Up to 12 (2013) or 20 (2019) decimal digits; left-padded with 0. */
  phone: string;
  seq: number;
  /** 2019 only; default 1. */
  protocolVersion?: number;
  subpackage?: Jt808Subpackage;
}

/** Reads a header (the subpackage-field sanity is the reassembler's job). */
export function readHeader(r: ByteReader): Jt808Header {
  const msgId = r.u16('msg_id');
  const props = r.u16('body_props');
  const version: Jt808Version = props & PROPS_VERSION_FLAG ? 2019 : 2013;
  const protocolVersion = version === 2019 ? r.u8('protocol_version') : undefined;
  const phone = decodeBcd(r.bytes(PHONE_DIGITS[version] / 2, 'terminal phone'), 'terminal phone');
  const seq = r.u16('msg_seq');
  const header: Jt808Header = {
    msgId,
    version,
    phone,
    seq,
    bodyLength: props & PROPS_BODY_LENGTH_MASK,
    encryption: (props & PROPS_ENCRYPTION_MASK) >> 10,
  };
  if (protocolVersion !== undefined) header.protocolVersion = protocolVersion;
  if (props & PROPS_SUBPACKAGE) header.subpackage = { total: r.u16('pkg_total'), index: r.u16('pkg_index') };
  return header;
}

/** Writes a header for a body of `bodyLength` bytes (no encryption). */
export function writeHeader(w: ByteWriter, msgId: number, h: Jt808HeaderInit, bodyLength: number): void {
  if (bodyLength > MAX_BODY_BYTES) throw new Jt808EncodeError(`body is ${bodyLength} bytes, one packet holds ${MAX_BODY_BYTES}: subpackage it`);
  let props = bodyLength;
  if (h.version === 2019) props |= PROPS_VERSION_FLAG;
  if (h.subpackage) props |= PROPS_SUBPACKAGE;
  w.u16(msgId, 'msg_id').u16(props, 'body_props');
  if (h.version === 2019) w.u8(h.protocolVersion ?? 1, 'protocol_version');
  w.bytes(encodeBcd(h.phone, PHONE_DIGITS[h.version] / 2, 'terminal phone'));
  w.u16(h.seq, 'msg_seq');
  if (h.subpackage) w.u16(h.subpackage.total, 'pkg_total').u16(h.subpackage.index, 'pkg_index');
}
