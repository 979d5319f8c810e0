import { Jt808EncodeError } from './decode-error.js';

// JT/T 808 STRING fields are GBK (domain.md §5.2). Node's full ICU decodes GBK; nothing in Node encodes it, so the
// reverse table is built once, on the first non-ASCII string, by decoding every two-byte GBK code (~24 000, a few ms).

const decoder = new TextDecoder('gbk');
let encodeTable: Map<number, number> | undefined;

/** GBK bytes → string. Invalid sequences become U+FFFD (a terminal's bad plate must not lose its location). */
export function decodeGbk(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) {
    if ((b[i] as number) >= 0x80) return decoder.decode(b);
  }
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** String → GBK bytes. Throws {@link Jt808EncodeError} on a character GBK cannot hold. */
export function encodeGbk(s: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return Buffer.from(s, 'latin1');
  const table = (encodeTable ??= buildTable());
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) {
      out.push(cp);
      continue;
    }
    const code = table.get(cp);
    if (code === undefined) throw new Jt808EncodeError(`character ${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase()}) has no GBK code`);
    out.push(code >> 8, code & 0xff);
  }
  return Buffer.from(out);
}

function buildTable(): Map<number, number> {
  const table = new Map<number, number>();
  const pair = new Uint8Array(2);
  // GBK two-byte codes: lead 0x81–0xFE, trail 0x40–0xFE except 0x7F.
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      pair[0] = lead;
      pair[1] = trail;
      const s = decoder.decode(pair);
      const cp = s.codePointAt(0) as number;
      if (s.length === 1 && cp !== 0xfffd && !table.has(cp)) table.set(cp, (lead << 8) | trail);
    }
  }
  return table;
}
