// Wire constants of JT/T 808-2013 / 2019 (domain.md §5.2–§5.3). Every other file of the codec takes its numbers here.

/** Message ids the codec decodes and encodes (domain.md §5.3). Anything else decodes as `unknown`, raw. */
export const MSG = {
  TERMINAL_GENERAL_REPLY: 0x0001,
  HEARTBEAT: 0x0002,
  LOGOUT: 0x0003,
  REGISTER: 0x0100,
  AUTHENTICATE: 0x0102,
  LOCATION: 0x0200,
  LOCATION_BATCH: 0x0704,
  PLATFORM_GENERAL_REPLY: 0x8001,
  REGISTER_REPLY: 0x8100,
  MANUAL_ALARM_CONFIRMATION: 0x8203,
} as const;

/** `result` of 0x0001 / 0x8001 (domain.md §5.3). */
export const GENERAL_RESULT = {
  /** 成功/确认 */
  OK: 0,
  /** 失败 */
  FAILURE: 1,
  /** 消息有误 */
  MALFORMED: 2,
  /** 不支持 */
  UNSUPPORTED: 3,
  /** 报警处理确认 (0x8001 only) */
  ALARM_CONFIRMED: 4,
} as const;

/** `result` of 0x8100 (domain.md §5.3). */
export const REGISTER_RESULT = {
  OK: 0,
  /** 车辆已被注册 */
  VEHICLE_TAKEN: 1,
  /** 数据库中无该车辆 */
  VEHICLE_UNKNOWN: 2,
  /** 终端已被注册 */
  TERMINAL_TAKEN: 3,
  /** 数据库中无该终端 */
  TERMINAL_UNKNOWN: 4,
} as const;

/** `data_type` of 0x0704 (domain.md §5.3). */
export const BATCH_TYPE = { NORMAL: 0, BLIND_AREA: 1 } as const;

/** Frame delimiter and escape byte (domain.md §5.2). */
export const FLAG = 0x7e;
export const ESCAPE = 0x7d;

// body_props bits (domain.md §5.2): 0–9 body length, 10–12 encryption, 13 subpackaged, 14 version flag, 15 reserved.
export const PROPS_BODY_LENGTH_MASK = 0x03ff;
export const PROPS_ENCRYPTION_MASK = 0x1c00;
export const PROPS_SUBPACKAGE = 0x2000;
export const PROPS_VERSION_FLAG = 0x4000;

/** Largest body of one packet: the 10-bit length field. Longer messages are subpackaged. */
export const MAX_BODY_BYTES = 0x03ff;
/** 2019 header: msg id 2 + props 2 + version 1 + BCD[10] + seq 2 + total 2 + index 2. */
export const MAX_HEADER_BYTES = 21;
/** 2013 header without the subpackage fields: msg id 2 + props 2 + BCD[6] + seq 2. */
export const MIN_HEADER_BYTES = 12;
/**
 * Largest frame between the delimiters, escaped: every byte of header, body and checksum may double.
 * 2 × (21 + 1023 + 1) = 2090.
 */
export const MAX_ESCAPED_FRAME_BYTES = 2 * (MAX_HEADER_BYTES + MAX_BODY_BYTES + 1);

/** The 2019 header's protocol version byte: `1` is the only edition published (domain.md §5.2). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** Protocol edition as told by the header: bit14 set ⇒ 2019, else 2011/2013 (domain.md §5.2). */
export type Jt808Version = 2013 | 2019;

/** Digits of the terminal phone in the header: BCD[6] (2013) or BCD[10] (2019). */
export const PHONE_DIGITS: Record<Jt808Version, number> = { 2013: 12, 2019: 20 };
