// A fast reader for the one-entry-per-line YAML that scripts/gen-city-fleet.ts writes (devices/fleets/city.yaml):
// top-level `key: scalar` lines and `key:` followed by `  - { flow mapping }` lines. The general YAML parser takes
// several seconds for 20 000 such lines; this takes a few hundred milliseconds. It reads only that subset and gives
// up (returns undefined) on anything else — anchors, block mappings, single quotes, comments after values,
// non-core scalars — so the caller falls back to the full parser, and then to its file:line error reporting.
// test/unit/sim/compact-yaml.test.ts checks that it yields exactly what the `yaml` package yields.

class Unsupported extends Error {}

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Plain scalars the YAML 1.2 core schema resolves to something other than a string, or that need care. */
const SPECIAL = /^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|0x[0-9a-fA-F]+|0o[0-7]+)$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function resolvePlain(s: string): unknown {
  if (s === '') throw new Unsupported();
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === 'null' || s === '~') return null;
  if (SPECIAL.test(s)) throw new Unsupported();
  if (INT.test(s) || FLOAT.test(s)) return Number(s);
  // Indicators that start something other than a plain scalar.
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(s) && !/^-[^\s-]/.test(s)) throw new Unsupported();
  return s;
}

/** Recursive-descent parser of one flow value. */
class Flow {
  private i = 0;
  constructor(private readonly s: string) {}

  parseAll(): unknown {
    const v = this.value(false);
    this.ws();
    if (this.i !== this.s.length) throw new Unsupported();
    return v;
  }

  private ws(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  private value(inFlow: boolean): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.mapping();
    if (c === '[') return this.sequence();
    if (c === '"') return this.quoted();
    return this.plain(inFlow);
  }

  private mapping(): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      const colon = this.s.indexOf(':', this.i);
      if (colon < 0) throw new Unsupported();
      const key = this.s.slice(this.i, colon).trim();
      if (!KEY.test(key) || Object.hasOwn(out, key) || this.s[colon + 1] !== ' ') throw new Unsupported();
      this.i = colon + 1;
      out[key] = this.value(true);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') throw new Unsupported();
    }
  }

  private sequence(): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(true));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') throw new Unsupported();
    }
  }

  private quoted(): string {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') this.i += this.s[this.i] === '\\' ? 2 : 1;
    if (this.i >= this.s.length) throw new Unsupported();
    this.i++;
    try {
      // JSON escapes are a subset of YAML double-quoted escapes; anything else (`\x41`, `\_`) makes JSON.parse throw.
      return JSON.parse(this.s.slice(start, this.i)) as string;
    } catch {
      throw new Unsupported();
    }
  }

  private plain(inFlow: boolean): unknown {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (inFlow && (c === ',' || c === '}' || c === ']' || c === '[' || c === '{')) break;
      // `: ` and ` #` mean a key or a comment, neither of which this subset has inside a scalar.
      if ((c === ':' && (this.s[this.i + 1] === ' ' || this.i + 1 === this.s.length)) || (c === '#' && this.s[this.i - 1] === ' ')) throw new Unsupported();
      this.i++;
    }
    return resolvePlain(this.s.slice(start, this.i).trim());
  }
}

/**
 * The document as plain JS (what `yaml`'s `parse` returns), or undefined when the text is not in the subset this
 * reads. Never throws.
 */
export function parseCompactYaml(text: string): Record<string, unknown> | undefined {
  const doc: Record<string, unknown> = {};
  let list: unknown[] | undefined;
  try {
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '' || line.startsWith('#')) continue;
      if (line.includes('\t')) return undefined;
      if (line.startsWith('  - ')) {
        if (!list) return undefined;
        list.push(new Flow(line.slice(4)).parseAll());
        continue;
      }
      const m = /^([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?$/.exec(line);
      if (!m || Object.hasOwn(doc, m[1] as string)) return undefined;
      const rest = (m[2] ?? '').trim();
      if (rest === '') {
        list = [];
        doc[m[1] as string] = list;
      } else {
        list = undefined;
        doc[m[1] as string] = new Flow(rest).parseAll();
      }
    }
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  // `key:` with nothing under it is null in YAML, not an empty list: leave that to the full parser.
  if (Object.values(doc).some((v) => Array.isArray(v) && v.length === 0)) return undefined;
  return doc;
}
