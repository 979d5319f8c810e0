import { usccCheckChar } from '../../registry/uscc.js';

// Identifiers of the generated fleet, with their real check characters: 统一社会信用代码 (GB 32100-2015, the 9-character
// organisation code inside it with its GB 11714-1997 check character), IMEIs (Luhn), JT/T 808 terminal phone numbers
// and licence plates. All are made up.

/** GB 32100-2015 §4.2 character set (no I, O, S, V, Z). */
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** GB 11714-1997 weights of the first 8 characters of an organisation code. */
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
/** Plate letters: GA 36 leaves out I and O. */
const PLATE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

const pick = (chars: string, rand: () => number): string => chars[Math.floor(rand() * chars.length)] as string;

/** GB 11714-1997 check character of an 8-character organisation code body (digits, A = 10 … Z = 35). */
export function orgCodeCheckChar(body8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const c = body8[i] as string;
    const v = /\d/.test(c) ? Number(c) : c.charCodeAt(0) - 55;
    sum += v * (ORG_WEIGHTS[i] as number);
  }
  const r = 11 - (sum % 11);
  return r === 10 ? 'X' : r === 11 ? '0' : String(r);
}

/** A 统一社会信用代码 of an enterprise (登记管理部门 9 工商, 类别 1 企业) registered in `region`. */
export function makeUscc(region: string, rand: () => number): string {
  // Codes given since 2015 carry an organisation code starting with MA.
  let body = 'MA';
  while (body.length < 8) body += pick(USCC_CHARS, rand);
  const first17 = `91${region}${body}${orgCodeCheckChar(body)}`;
  return `${first17}${usccCheckChar(first17) as string}`;
}

/** Luhn check digit of a digit string (the IMEI's 15th digit, 3GPP TS 23.003 §6.2.1). */
export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** An IMEI: the 8-digit type allocation code, a 6-digit serial and the Luhn digit. */
export function makeImei(tac: string, serial: number): string {
  const body = `${tac}${String(serial).padStart(6, '0')}`;
  return `${body}${luhnDigit(body)}`;
}

/** A JT/T 808-2013 terminal phone number: 12 digits, the SIM's 11-digit number left-padded with 0. */
export function makeTerminalPhone(rand: () => number): string {
  const prefixes = ['139', '138', '137', '150', '158', '186', '187', '188', '147'];
  let n = prefixes[Math.floor(rand() * prefixes.length)] as string;
  while (n.length < 11) n += String(Math.floor(rand() * 10));
  return `0${n}`;
}

/** A 川A plate (成都): five characters, at most two letters (GA 36-2018 ordinary plates). */
export function makePlate(rand: () => number): string {
  const letters = 1 + Math.floor(rand() * 2);
  let s = '';
  for (let i = 0; i < 5; i++) s += i < letters ? pick(PLATE_LETTERS, rand) : String(Math.floor(rand() * 10));
  return `川A${s}`;
}
