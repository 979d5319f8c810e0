import { ESCAPE, FLAG } from './constants.js';
import { fail } from './decode-error.js';

/** XOR of every byte (domain.md §5.2: over header + body, before escaping). */
export function xorChecksum(b: Uint8Array, start = 0, end = b.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= b[i] as number;
  return x;
}

/** 0x7e → 0x7d 0x02, 0x7d → 0x7d 0x01 (domain.md §5.2). Returns the input itself when nothing needs escaping. */
export function escapeFrame(raw: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] === FLAG || raw[i] === ESCAPE) extra++;
  if (extra === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + extra);
  let j = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    if (b === FLAG || b === ESCAPE) {
      out[j++] = ESCAPE;
      out[j++] = b === FLAG ? 0x02 : 0x01;
    } else {
      out[j++] = b;
    }
  }
  return out;
}

/**
 * Reverses {@link escapeFrame}. A 0x7d followed by anything but 0x01/0x02 (or by nothing), or a bare 0x7e, fails with
 * `bad_escape`. Returns the input itself when it holds no 0x7d.
 */
export function unescapeFrame(escaped: Buffer): Buffer {
  const first = escaped.indexOf(ESCAPE);
  const flag = escaped.indexOf(FLAG);
  if (flag !== -1 && (first === -1 || flag < first)) fail('bad_escape', `bare 0x7e at offset ${flag} inside the frame`);
  if (first === -1) return escaped;
  const out = Buffer.allocUnsafe(escaped.length);
  escaped.copy(out, 0, 0, first);
  let j = first;
  for (let i = first; i < escaped.length; i++) {
    const b = escaped[i] as number;
    if (b === FLAG) fail('bad_escape', `bare 0x7e at offset ${i} inside the frame`);
    if (b !== ESCAPE) {
      out[j++] = b;
      continue;
    }
    const next = escaped[i + 1];
    if (next === 0x02) out[j++] = FLAG;
    else if (next === 0x01) out[j++] = ESCAPE;
    else fail('bad_escape', next === undefined ? `0x7d at offset ${i} ends the frame` : `0x7d at offset ${i} is followed by 0x${next.toString(16).padStart(2, '0')}, not 0x01 or 0x02`);
    i++;
  }
  return out.subarray(0, j);
}
