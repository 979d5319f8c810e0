import { ByteReader, ByteWriter } from './bytes.js';
import { MAX_BODY_BYTES, MSG } from './constants.js';
import { decodeSafely, fail, Jt808EncodeError, type DecodeResult } from './decode-error.js';
import type { Jt808Header, Jt808HeaderInit } from './header.js';
import { decodeFrame, encodePacket, type Jt808Packet } from './packet.js';
import { readAuthenticate, writeAuthenticate, type AuthenticateBody } from './bodies/authenticate.js';
import { readGeneralReply, writeGeneralReply, type GeneralReplyBody } from './bodies/general-reply.js';
import { readLocationBatch, writeLocationBatch, type LocationBatchBody } from './bodies/location-batch.js';
import { readLocation, writeLocation, type LocationBody } from './bodies/location.js';
import { readManualAlarmConfirmation, writeManualAlarmConfirmation, type ManualAlarmConfirmationBody } from './bodies/manual-alarm-confirmation.js';
import { readRegister, readRegisterReply, writeRegister, writeRegisterReply, type RegisterBody, type RegisterReplyBody } from './bodies/register.js';

/** A decoded body, tagged by `type`; message ids outside the supported set are `unknown`, raw. */
export type Jt808Body =
  | ({ type: 'terminal_general_reply' } & GeneralReplyBody)
  | { type: 'heartbeat' }
  | { type: 'logout' }
  | ({ type: 'register' } & RegisterBody)
  | ({ type: 'authenticate' } & AuthenticateBody)
  | ({ type: 'location' } & LocationBody)
  | ({ type: 'location_batch' } & LocationBatchBody)
  | ({ type: 'platform_general_reply' } & GeneralReplyBody)
  | ({ type: 'register_reply' } & RegisterReplyBody)
  | ({ type: 'manual_alarm_confirmation' } & ManualAlarmConfirmationBody)
  | { type: 'unknown'; msgId: number; raw: Buffer };

export type Jt808BodyType = Jt808Body['type'];

/** A whole message: header and decoded body. */
export interface Jt808Message {
  header: Jt808Header;
  body: Jt808Body;
}

/** Message id of each body type. */
export const MSG_ID_OF: Record<Exclude<Jt808BodyType, 'unknown'>, number> = {
  terminal_general_reply: MSG.TERMINAL_GENERAL_REPLY,
  heartbeat: MSG.HEARTBEAT,
  logout: MSG.LOGOUT,
  register: MSG.REGISTER,
  authenticate: MSG.AUTHENTICATE,
  location: MSG.LOCATION,
  location_batch: MSG.LOCATION_BATCH,
  platform_general_reply: MSG.PLATFORM_GENERAL_REPLY,
  register_reply: MSG.REGISTER_REPLY,
  manual_alarm_confirmation: MSG.MANUAL_ALARM_CONFIRMATION,
};

/** Message id of a body. */
export function msgIdOf(body: Jt808Body): number {
  return body.type === 'unknown' ? body.msgId : MSG_ID_OF[body.type];
}

/**
 * Interprets the body bytes of a whole message (a single packet, or a reassembled one) per its header's msg id and
 * edition. Never throws.
 */
export function decodeBody(header: Jt808Header, body: Buffer): DecodeResult<Jt808Body> {
  return decodeSafely(() => readBody(header, body), () => header);
}

function readBody(header: Jt808Header, body: Buffer): Jt808Body {
  const name = `0x${header.msgId.toString(16).padStart(4, '0')} body`;
  const r = new ByteReader(body, name);
  switch (header.msgId) {
    case MSG.TERMINAL_GENERAL_REPLY:
      return { type: 'terminal_general_reply', ...readGeneralReply(r) };
    case MSG.PLATFORM_GENERAL_REPLY:
      return { type: 'platform_general_reply', ...readGeneralReply(r) };
    case MSG.HEARTBEAT:
    case MSG.LOGOUT:
      r.end(); // empty body (domain.md §5.3)
      return { type: header.msgId === MSG.HEARTBEAT ? 'heartbeat' : 'logout' };
    case MSG.REGISTER:
      return { type: 'register', ...readRegister(r, header.version) };
    case MSG.REGISTER_REPLY:
      return { type: 'register_reply', ...readRegisterReply(r) };
    case MSG.AUTHENTICATE:
      return { type: 'authenticate', ...readAuthenticate(r, header.version) };
    case MSG.LOCATION:
      return { type: 'location', ...readLocation(r) };
    case MSG.LOCATION_BATCH:
      return { type: 'location_batch', ...readLocationBatch(r) };
    case MSG.MANUAL_ALARM_CONFIRMATION:
      return { type: 'manual_alarm_confirmation', ...readManualAlarmConfirmation(r) };
    default:
      return { type: 'unknown', msgId: header.msgId, raw: Buffer.from(body) };
  }
}

/** Decodes one whole, unsubpackaged frame (0x7e delimiters included) into a message. Never throws. */
export function decodeMessage(frame: Buffer): DecodeResult<Jt808Message> {
  const packet = decodeFrame(frame);
  if (!packet.ok) return packet;
  return decodePacketMessage(packet.value);
}

/** Body of a decoded packet; a subpackage fails with `bad_subpackage` (reassemble first, see `Jt808Reassembler`). */
export function decodePacketMessage(packet: Jt808Packet): DecodeResult<Jt808Message> {
  const { header } = packet;
  if (header.subpackage) {
    return decodeSafely(() => fail('bad_subpackage', `packet ${header.subpackage?.index}/${header.subpackage?.total} of a subpackaged message: reassemble it first`), () => header);
  }
  const body = decodeBody(header, packet.body);
  return body.ok ? { ok: true, value: { header, body: body.value } } : body;
}

/** The body bytes of a message in the given edition. Throws `Jt808EncodeError` on values the wire cannot carry. */
export function encodeBody(body: Jt808Body, version: Jt808HeaderInit['version']): Buffer {
  const w = new ByteWriter(64);
  switch (body.type) {
    case 'terminal_general_reply':
    case 'platform_general_reply':
      writeGeneralReply(w, body);
      break;
    case 'heartbeat':
    case 'logout':
      break;
    case 'register':
      writeRegister(w, body, version);
      break;
    case 'register_reply':
      writeRegisterReply(w, body);
      break;
    case 'authenticate':
      writeAuthenticate(w, body, version);
      break;
    case 'location':
      writeLocation(w, body);
      break;
    case 'location_batch':
      writeLocationBatch(w, body);
      break;
    case 'manual_alarm_confirmation':
      writeManualAlarmConfirmation(w, body);
      break;
    case 'unknown':
      w.bytes(body.raw);
      break;
  }
  return w.toBuffer();
}

/** One frame, 0x7e to 0x7e. The body must fit one packet (1023 bytes); see {@link encodeSubpackaged}. */
export function encodeMessage(init: Jt808HeaderInit, body: Jt808Body): Buffer {
  return encodePacket(msgIdOf(body), init, encodeBody(body, init.version));
}

/**
 * A message split into packets of at most `maxPacketBodyBytes` body bytes (domain.md §5.2 bit13): packet i has seq
 * `init.seq + i` (wrapping) and subpackage fields { total, index: i + 1 }. Always subpackaged, even when one packet
 * would do.
 */
export function encodeSubpackaged(init: Jt808HeaderInit, body: Jt808Body, maxPacketBodyBytes = MAX_BODY_BYTES): Buffer[] {
  if (!Number.isInteger(maxPacketBodyBytes) || maxPacketBodyBytes < 1 || maxPacketBodyBytes > MAX_BODY_BYTES) {
    throw new Jt808EncodeError(`maxPacketBodyBytes must be 1–${MAX_BODY_BYTES}, got ${maxPacketBodyBytes}`);
  }
  const bytes = encodeBody(body, init.version);
  const total = Math.max(1, Math.ceil(bytes.length / maxPacketBodyBytes));
  if (total > 0xffff) throw new Jt808EncodeError(`message needs ${total} packets, pkg_total holds 65535`);
  const frames: Buffer[] = [];
  for (let i = 0; i < total; i++) {
    const part = bytes.subarray(i * maxPacketBodyBytes, (i + 1) * maxPacketBodyBytes);
    frames.push(encodePacket(msgIdOf(body), { ...init, seq: (init.seq + i) & 0xffff, subpackage: { total, index: i + 1 } }, part));
  }
  return frames;
}
