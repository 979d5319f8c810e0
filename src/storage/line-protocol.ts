import type { FieldValue } from '../pipeline/reading.js';

// Issue 9: the `influx` package's writePoints built a parsed-point object, a sorted field-pair array and a
// regex-escaped copy of every key and value for each point: the largest allocator of the InfluxDB store path. This
// writes the same body, byte for byte (test/unit/storage/line-protocol.test.ts holds it to the package), straight
// from our points: measurement as is, tags in their own order, fields sorted by key, numbers and booleans as
// `String(v)` (always a float in line protocol: a field's type never flips), the time in ms.

/** Characters the package escapes in tag keys, tag values and field keys: `,` `=` and space. */
const NEEDS_ESCAPE = /[,= \\]/;
const TAG_ESCAPE = /[,= ]/g;

/** The package's tag escaper (grammar/escape.js), quirks included: it first doubles the backslash of one `\'`. */
function escapeTag(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/\\'/, "\\\\'").replace(TAG_ESCAPE, '\\$&');
}

/** One point's line; `fields` must hold only writable values (finite numbers, booleans) and at least one. */
export function pointLine(measurement: string, tags: Record<string, string>, fields: Record<string, FieldValue>, timeMs: number): string {
  let line = measurement;
  for (const k in tags) line += `,${escapeTag(k)}=${escapeTag(tags[k] as string)}`;
  const keys = Object.keys(fields).sort();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    line += `${i === 0 ? ' ' : ','}${escapeTag(k)}=${String(fields[k])}`;
  }
  return `${line} ${timeMs}`;
}

