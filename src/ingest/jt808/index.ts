// Public surface of the JT/T 808 adapter: the codec (for the server, the simulator and tests) and the server.
export { decodeBcd, decodeBcdTime, encodeBcd, encodeBcdTime, normalizePhone, DEVICE_ZONE_OFFSET_MS } from './codec/bcd.js';
export type { AuthenticateBody } from './codec/bodies/authenticate.js';
export type { GeneralReplyBody } from './codec/bodies/general-reply.js';
export type { LocationBatchBody } from './codec/bodies/location-batch.js';
export { EXTRA, extraValue, LOCATION_BASE_BYTES, NUMERIC_EXTRA_BYTES, type LocationBody, type LocationExtra } from './codec/bodies/location.js';
export { MANUAL_CONFIRMABLE_ALARM_BITS, type ManualAlarmConfirmationBody } from './codec/bodies/manual-alarm-confirmation.js';
export type { RegisterBody, RegisterLayout, RegisterReplyBody } from './codec/bodies/register.js';
export {
  BATCH_TYPE,
  GENERAL_RESULT,
  MAX_BODY_BYTES,
  MAX_ESCAPED_FRAME_BYTES,
  MSG,
  PHONE_DIGITS,
  REGISTER_RESULT,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Jt808Version,
} from './codec/constants.js';
export { DECODE_REASONS, Jt808EncodeError, type DecodeResult, type Jt808DecodeError, type Jt808DecodeReason } from './codec/decode-error.js';
export { DEFAULT_FRAME_SPLITTER_OPTIONS, Jt808FrameSplitter, type FrameSplitterOptions, type SplitItem } from './codec/frame-splitter.js';
export { escapeFrame, unescapeFrame, xorChecksum } from './codec/framing.js';
export { decodeGbk, encodeGbk } from './codec/gbk.js';
export type { Jt808Header, Jt808HeaderInit, Jt808Subpackage } from './codec/header.js';
export {
  decodeBody,
  decodeMessage,
  decodePacketMessage,
  encodeBody,
  encodeMessage,
  encodeSubpackaged,
  msgIdOf,
  MSG_ID_OF,
  type Jt808Body,
  type Jt808BodyType,
  type Jt808Message,
} from './codec/message.js';
export { decodeFrame, decodePacket, encodePacket, replyHeaderInit, type Jt808Packet } from './codec/packet.js';
export { DEFAULT_REASSEMBLER_OPTIONS, Jt808Reassembler, type ReassemblerOptions, type ReassemblyResult } from './codec/reassembler.js';
export { alarmNames, locationToVehiclePayload, type VehiclePayload, type VehiclePayloadOptions } from './vehicle-payload.js';
export {
  AUTH_CODE_BYTES,
  generateAuthCode,
  MemoryAuthCodeStore,
  type AuthCodeRecord,
  type AuthCodeStore,
  type TerminalRef,
} from './auth-code-store.js';
export { SqliteAuthCodeStore } from './sqlite-auth-code-store.js';
export {
  DEFAULT_JT808_SERVER_OPTIONS,
  type Jt808CloseReason,
  type Jt808LocationMeta,
  type Jt808MetricHooks,
  type Jt808RefusalReason,
  type Jt808ServerContext,
  type Jt808ServerOptions,
  type Jt808SessionEvent,
  type TerminalQuery,
} from './server-context.js';
export { Jt808Server } from './jt808-server.js';
export { JT808_ATTRS, normalizePlate, TerminalIndex, vehiclePhone, type VehicleSource } from './terminal-index.js';
