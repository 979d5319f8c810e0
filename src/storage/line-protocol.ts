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

/** A field-key order as met (`keys`), and the same keys sorted with their escaped forms. */
interface FieldOrder {
  keys: string[];
  sorted: { key: string; escaped: string }[];
}

/**
 * The last field-key order met per measurement. The points of one kind nearly always carry the same fields in the
 * same order (the validator builds them), so sorting and escaping the keys of every point again was a tenth of
 * the line's cost (issue 9). Checked key by key against the point's own order; a different order is sorted anew.
 */
const fieldOrders = new Map<string, FieldOrder>();

function sortedFields(measurement: string, fields: Record<string, FieldValue>): FieldOrder['sorted'] {
  const known = fieldOrders.get(measurement);
  if (known !== undefined) {
    const keys = known.keys;
    let n = 0;
    let same = true;
    for (const k in fields) {
      if (keys[n] !== k) {
        same = false;
        break;
      }
      n++;
    }
    if (same && n === keys.length) return known.sorted;
  }
  const keys = Object.keys(fields);
  const sorted = [...keys].sort().map((key) => ({ key, escaped: escapeTag(key) }));
  fieldOrders.set(measurement, { keys, sorted });
  return sorted;
}

/** One point's line; `fields` must hold only writable values (finite numbers, booleans) and at least one. */
export function pointLine(measurement: string, tags: Record<string, string>, fields: Record<string, FieldValue>, timeMs: number): string {
  let line = measurement;
  for (const k in tags) line += `,${escapeTag(k)}=${escapeTag(tags[k] as string)}`;
  const sorted = sortedFields(measurement, fields);
  for (let i = 0; i < sorted.length; i++) {
    const f = sorted[i] as { key: string; escaped: string };
    line += `${i === 0 ? ' ' : ','}${f.escaped}=${String(fields[f.key])}`;
  }
  return `${line} ${timeMs}`;
}

