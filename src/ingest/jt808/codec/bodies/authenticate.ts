import { stripNulPadding, type ByteReader, type ByteWriter } from '../bytes.js';
import type { Jt808Version } from '../constants.js';
import { fail, Jt808EncodeError } from '../decode-error.js';
import { decodeGbk, encodeGbk } from '../gbk.js';

/** 0x0102 终端鉴权 (domain.md §5.3). */
export interface AuthenticateBody {
  authCode: string;
  /** 2019 only: IMEI, BYTE[15]. */
  imei?: string;
  /** 2019 only: software version, BYTE[20], 0x00-padded. */
  softwareVersion?: string;
}

const IMEI_BYTES = 15;
const SOFTWARE_VERSION_BYTES = 20;

/** 2013: the whole body is the code. 2019: code_len BYTE, code, IMEI BYTE[15], software version BYTE[20]. */
export function readAuthenticate(r: ByteReader, version: Jt808Version): AuthenticateBody {
  if (version === 2013) return { authCode: decodeGbk(r.rest()) };
  const len = r.u8('code_len');
  if (r.remaining !== len + IMEI_BYTES + SOFTWARE_VERSION_BYTES) {
    const what = r.remaining < len + IMEI_BYTES + SOFTWARE_VERSION_BYTES ? 'truncated' : 'bad_length';
    fail(what, `0x0102 body: code_len ${len} + IMEI ${IMEI_BYTES} + software version ${SOFTWARE_VERSION_BYTES} = ${len + 35} bytes, body holds ${r.remaining} after code_len`);
  }
  return {
    authCode: decodeGbk(r.bytes(len, 'auth_code')),
    imei: decodeGbk(stripNulPadding(r.bytes(IMEI_BYTES, 'imei'))),
    softwareVersion: decodeGbk(stripNulPadding(r.bytes(SOFTWARE_VERSION_BYTES, 'software_version'))),
  };
}

export function writeAuthenticate(w: ByteWriter, b: AuthenticateBody, version: Jt808Version): void {
  const code = encodeGbk(b.authCode);
  if (version === 2013) {
    w.bytes(code);
    return;
  }
  if (code.length > 0xff) throw new Jt808EncodeError(`auth code is ${code.length} bytes, code_len holds 255`);
  w.u8(code.length, 'code_len').bytes(code);
  w.padded(encodeGbk(b.imei ?? ''), IMEI_BYTES, 'imei');
  w.padded(encodeGbk(b.softwareVersion ?? ''), SOFTWARE_VERSION_BYTES, 'software_version');
}
