import { fail, Jt808EncodeError } from './decode-error.js';

/** Beijing time: JT/T 808 BCD times are GMT+8, no DST (domain.md §5.3 time field, §0). */
export const DEVICE_ZONE_OFFSET_MS = 8 * 3_600_000;

/** BCD bytes → digit string, two digits per byte, high nibble first. A nibble above 9 fails with `bad_bcd`. */
export function decodeBcd(b: Uint8Array, field: string): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const byte = b[i] as number;
    const hi = byte >> 4;
    const lo = byte & 0x0f;
    if (hi > 9 || lo > 9) fail('bad_bcd', `${field}: byte ${i} is 0x${byte.toString(16).padStart(2, '0')}, not two BCD digits`);
    out += String.fromCharCode(0x30 + hi, 0x30 + lo);
  }
  return out;
}

/** Digit string → `bytes` BCD bytes, left-padded with 0 (the header phone, domain.md §5.2). */
export function encodeBcd(digits: string, bytes: number, field: string): Buffer {
  if (!/^\d*$/.test(digits)) throw new Jt808EncodeError(`${field} must be decimal digits, got ${JSON.stringify(digits)}`);
  if (digits.length > bytes * 2) throw new Jt808EncodeError(`${field} has ${digits.length} digits, the field holds ${bytes * 2}`);
  const padded = digits.padStart(bytes * 2, '0');
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) out[i] = ((padded.charCodeAt(2 * i) - 0x30) << 4) | (padded.charCodeAt(2 * i + 1) - 0x30);
  return out;
}

/**
 * A terminal phone as one key whatever the edition sent: leading zeros dropped, so the 2013 BCD[6] `013912345678`
 * and the 2019 BCD[10] `00000000013912345678` are both `13912345678`. All zeros stay `0`.
 */
export function normalizePhone(phone: string): string {
  const trimmed = phone.replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * BCD[6] `YY MM DD hh mm ss` in GMT+8 → epoch ms (domain.md §5.3). YY is 2000 + YY: the format holds no century and
 * JT/T 808 dates from 2011 on. Fails with `bad_bcd` or `bad_time` (month 13, 31 April, hour 24, all zeros).
 */
export function decodeBcdTime(b: Uint8Array, field: string): number {
  const d = decodeBcd(b, field);
  const [yy, mo, dd, hh, mi, ss] = [0, 2, 4, 6, 8, 10].map((i) => Number(d.slice(i, i + 2))) as [number, number, number, number, number, number];
  const year = 2000 + yy;
  const leap = year % 4 === 0; // exact for 2000–2099
  const days = mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] ?? 0);
  if (mo < 1 || mo > 12 || dd < 1 || dd > days || hh > 23 || mi > 59 || ss > 59) {
    fail('bad_time', `${field}: ${d.replace(/(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/, '$1-$2-$3 $4:$5:$6')} is not a valid date and time`);
  }
  return Date.UTC(year, mo - 1, dd, hh, mi, ss) - DEVICE_ZONE_OFFSET_MS;
}

/** Epoch ms → BCD[6] GMT+8 time, milliseconds dropped. Throws {@link Jt808EncodeError} outside 2000–2099 (GMT+8). */
export function encodeBcdTime(ms: number, field: string): Buffer {
  if (!Number.isFinite(ms)) throw new Jt808EncodeError(`${field} must be a finite epoch ms, got ${ms}`);
  const t = new Date(Math.floor(ms / 1000) * 1000 + DEVICE_ZONE_OFFSET_MS);
  const year = t.getUTCFullYear();
  if (year < 2000 || year > 2099) throw new Jt808EncodeError(`${field}: year ${year} (GMT+8) is outside 2000–2099, which BCD YY cannot hold`);
  const two = (n: number): string => String(n).padStart(2, '0');
  const digits = two(year - 2000) + two(t.getUTCMonth() + 1) + two(t.getUTCDate()) + two(t.getUTCHours()) + two(t.getUTCMinutes()) + two(t.getUTCSeconds());
  return encodeBcd(digits, 6, field);
}
