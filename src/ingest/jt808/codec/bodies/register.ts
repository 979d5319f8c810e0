import { stripNulPadding, type ByteReader, type ByteWriter } from '../bytes.js';
import type { Jt808Version } from '../constants.js';
import { Jt808EncodeError } from '../decode-error.js';
import { decodeGbk, encodeGbk } from '../gbk.js';

/** Body layout of 0x0100: the field sizes changed in 2013 and 2019 (domain.md §5.3). */
export type RegisterLayout = 2011 | 2013 | 2019;

/** 0x0100 终端注册 (domain.md §5.3). Fixed-size strings are given without their 0x00 padding. */
export interface RegisterBody {
  layout: RegisterLayout;
  /** 省域ID: first 2 digits of the GB/T 2260 code (51 四川). */
  provinceId: number;
  /** 市县域ID: last 4 digits (0100 → 100). */
  cityId: number;
  /** 制造商ID: BYTE[5] (2011/2013), BYTE[11] (2019). */
  makerId: string;
  /** 终端型号: BYTE[8] / BYTE[20] / BYTE[30]. */
  model: string;
  /** 终端ID: BYTE[7] / BYTE[7] / BYTE[30]. */
  terminalId: string;
  /** 0 not plated (then `plate` is the VIN); 1 blue, 2 yellow, 3 black, 4 white, 5 green (2019), 9 other. */
  plateColor: number;
  /** 车辆标识: plate (GBK) or VIN, rest of the body. */
  plate: string;
}

const SIZES: Record<RegisterLayout, { maker: number; model: number; terminal: number }> = {
  2011: { maker: 5, model: 8, terminal: 7 },
  2013: { maker: 5, model: 20, terminal: 7 },
  2019: { maker: 11, model: 30, terminal: 30 },
};

/** Bytes before the plate: province 2 + city 2 + maker + model + terminal id + plate colour 1. */
function fixedBytes(layout: RegisterLayout): number {
  const s = SIZES[layout];
  return 5 + s.maker + s.model + s.terminal;
}

/**
 * Reads 0x0100. Under a 2013 header the 2011 and 2013 layouts differ only in sizes, so the body length decides:
 * shorter than the 2013 fixed part (37 bytes) is 2011 (domain.md §5.2 "detect by body length").
 */
export function readRegister(r: ByteReader, version: Jt808Version): RegisterBody {
  const layout: RegisterLayout = version === 2019 ? 2019 : r.remaining < fixedBytes(2013) ? 2011 : 2013;
  const s = SIZES[layout];
  return {
    layout,
    provinceId: r.u16('province_id'),
    cityId: r.u16('city_id'),
    makerId: decodeGbk(stripNulPadding(r.bytes(s.maker, 'maker_id'))),
    model: decodeGbk(stripNulPadding(r.bytes(s.model, 'model'))),
    terminalId: decodeGbk(stripNulPadding(r.bytes(s.terminal, 'terminal_id'))),
    plateColor: r.u8('plate_color'),
    plate: decodeGbk(r.rest()),
  };
}

export function writeRegister(w: ByteWriter, b: RegisterBody, version: Jt808Version): void {
  if ((version === 2019) !== (b.layout === 2019)) throw new Jt808EncodeError(`a ${b.layout} register body cannot travel under a ${version} header`);
  const s = SIZES[b.layout];
  w.u16(b.provinceId, 'province_id').u16(b.cityId, 'city_id');
  w.padded(encodeGbk(b.makerId), s.maker, 'maker_id');
  w.padded(encodeGbk(b.model), s.model, 'model');
  w.padded(encodeGbk(b.terminalId), s.terminal, 'terminal_id');
  w.u8(b.plateColor, 'plate_color');
  w.bytes(encodeGbk(b.plate));
}

/** 0x8100 终端注册应答 (domain.md §5.3). */
export interface RegisterReplyBody {
  /** msg_seq of the 0x0100 answered. */
  replySeq: number;
  /** See `REGISTER_RESULT`. */
  result: number;
  /** The code to send in 0x0102; present when `result` is 0. */
  authCode?: string;
}

export function readRegisterReply(r: ByteReader): RegisterReplyBody {
  const body: RegisterReplyBody = { replySeq: r.u16('reply_seq'), result: r.u8('result') };
  // The code follows only on success; a platform that sends one anyway is tolerated and kept.
  if (r.remaining > 0) body.authCode = decodeGbk(r.rest());
  return body;
}

export function writeRegisterReply(w: ByteWriter, b: RegisterReplyBody): void {
  w.u16(b.replySeq, 'reply_seq').u8(b.result, 'result');
  if (b.authCode !== undefined) w.bytes(encodeGbk(b.authCode));
}
