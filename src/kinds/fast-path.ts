import type { z } from 'zod';

// Issue 9: zod's `safeParse` of a kind's `data` was a sixth of the gateway's CPU per reading, on data that is valid
// almost always. This compiles a kind's zod schema, once, into plain checks that *accept* exactly what the schema
// accepts and return the same output (same keys, same order). Zod stays the source of truth: the bounds, enums and
// refinements are read out of the schema itself, nothing is restated here, and whatever the fast path does not accept
// goes to zod, which decides and words the errors. A schema with a construct this file does not know compiles to
// nothing, and zod then checks every reading. test/unit/kinds/fast-path.test.ts holds it to zod on generated payloads.

/** What a compiled node returns for a value the schema does not (surely) accept. */
const FAIL: unique symbol = Symbol('fast-path-fail');

/** A compiled schema node: the parsed output, or FAIL. */
type Node = (value: unknown) => unknown;

/** A compiled data schema: the output zod's `safeParse` would give on success, or undefined (ask zod). */
export type FastPath = (data: unknown) => Record<string, unknown> | undefined;

/** The parts of zod's internal definitions read here (zod 4 `schema._zod.def`). */
interface Def {
  type: string;
  [key: string]: unknown;
}
interface CheckDef {
  check: string;
  [key: string]: unknown;
}
type Internal = { _zod: { def: Def } };
type Payload = { value: unknown; issues: unknown[] };

const defOf = (schema: unknown): Def => (schema as Internal)._zod.def;
const checkDefs = (def: Def): CheckDef[] => ((def.checks as Internal[] | undefined) ?? []).map((c) => c._zod.def as unknown as CheckDef);

/** Keys each supported definition may carry; any other key is a feature this file does not know: no fast path. */
const KNOWN_DEF_KEYS: Record<string, ReadonlySet<string>> = {
  object: new Set(['type', 'shape', 'catchall', 'checks']),
  optional: new Set(['type', 'innerType']),
  number: new Set(['type', 'checks', 'check', 'abort', 'format', 'error']),
  boolean: new Set(['type', 'error']),
  string: new Set(['type', 'checks', 'error']),
  enum: new Set(['type', 'entries', 'error']),
  literal: new Set(['type', 'values', 'error']),
  union: new Set(['type', 'options', 'error']),
  array: new Set(['type', 'element', 'checks', 'error']),
};
const KNOWN_CHECK_KEYS: Record<string, ReadonlySet<string>> = {
  greater_than: new Set(['check', 'value', 'inclusive', 'abort', 'error']),
  less_than: new Set(['check', 'value', 'inclusive', 'abort', 'error']),
  string_format: new Set(['check', 'format', 'pattern', 'abort', 'error']),
  min_length: new Set(['check', 'minimum', 'when', 'abort', 'error']),
  max_length: new Set(['check', 'maximum', 'when', 'abort', 'error']),
  custom: new Set(['type', 'check', 'fn', 'params', 'when', 'abort', 'error', 'path']),
};

function known(def: Def | CheckDef, allowed: ReadonlySet<string> | undefined): boolean {
  if (!allowed) return false;
  for (const key of Object.keys(def)) if (!allowed.has(key)) return false;
  return true;
}

/** The checks of a node as one predicate on its (already type-checked) value; undefined when one is not supported. */
function compileChecks(def: Def, on: 'number' | 'string' | 'array' | 'object'): ((value: never) => boolean) | undefined {
  const preds: ((value: never) => boolean)[] = [];
  for (const c of checkDefs(def)) {
    if (!known(c, KNOWN_CHECK_KEYS[c.check])) return undefined;
    // zod runs a check with `when` only when it says so; on the success path the payload has no issues.
    const when = c.when as ((payload: Payload) => boolean) | undefined;
    let pred: ((value: never) => boolean) | undefined;
    if ((c.check === 'greater_than' || c.check === 'less_than') && on === 'number' && typeof c.value === 'number') {
      const bound = c.value;
      const inclusive = c.inclusive === true;
      if (c.check === 'greater_than') pred = inclusive ? (v: number) => v >= bound : (v: number) => v > bound;
      else pred = inclusive ? (v: number) => v <= bound : (v: number) => v < bound;
    } else if (c.check === 'string_format' && on === 'string' && c.format === 'regex' && c.pattern instanceof RegExp) {
      const pattern = c.pattern;
      pred = (v: string) => {
        pattern.lastIndex = 0; // as zod does: a /g or /y pattern must not carry state between values
        return pattern.test(v);
      };
    } else if ((c.check === 'min_length' || c.check === 'max_length') && on === 'array') {
      // Arrays count elements (strings would count code points: not supported here).
      const n = (c.check === 'min_length' ? c.minimum : c.maximum) as number;
      pred = c.check === 'min_length' ? (v: unknown[]) => v.length >= n : (v: unknown[]) => v.length <= n;
    } else if (c.check === 'custom' && typeof c.fn === 'function') {
      const fn = c.fn as (value: unknown) => unknown;
      pred = (v: unknown) => {
        const r = fn(v);
        return !(r instanceof Promise) && Boolean(r);
      };
    }
    if (!pred) return undefined;
    const p = pred;
    preds.push(when ? (v: never) => !when({ value: v, issues: [] }) || p(v) : p);
  }
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  if (preds.length === 2) {
    const [a, b] = preds as [(v: never) => boolean, (v: never) => boolean];
    return (v: never) => a(v) && b(v);
  }
  return (v: never) => preds.every((p) => p(v));
}

function compileNode(schema: unknown): Node | undefined {
  const def = defOf(schema);
  if (!known(def, KNOWN_DEF_KEYS[def.type])) return undefined;
  switch (def.type) {
    case 'number': {
      // `z.int()` is the `safeint` format (an integer within ±2^53 − 1); other formats are not supported.
      if (def.format !== undefined && def.format !== 'safeint') return undefined;
      const int = def.format === 'safeint';
      const ok = compileChecks(def, 'number') as ((v: number) => boolean) | undefined;
      if (!ok) return undefined;
      return (v) => (typeof v === 'number' && Number.isFinite(v) && (!int || Number.isSafeInteger(v)) && ok(v) ? v : FAIL);
    }
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : FAIL);
    case 'string': {
      const ok = compileChecks(def, 'string') as ((v: string) => boolean) | undefined;
      return ok && ((v) => (typeof v === 'string' && ok(v) ? v : FAIL));
    }
    case 'enum': {
      // String enums only (a numeric TypeScript enum's reverse mapping is filtered by zod: not restated here).
      const entries = Object.values(def.entries as Record<string, unknown>);
      if (entries.some((e) => typeof e !== 'string')) return undefined;
      const values = new Set<unknown>(entries);
      return (v) => (values.has(v) ? v : FAIL);
    }
    case 'literal': {
      const values = new Set<unknown>(def.values as unknown[]);
      return (v) => (values.has(v) ? v : FAIL);
    }
    case 'union': {
      // zod returns the first option that parses.
      const options = (def.options as unknown[]).map(compileNode);
      if (options.some((o) => o === undefined)) return undefined;
      const nodes = options as Node[];
      return (v) => {
        for (const node of nodes) {
          const out = node(v);
          if (out !== FAIL) return out;
        }
        return FAIL;
      };
    }
    case 'array': {
      const element = compileNode(def.element);
      const ok = compileChecks(def, 'array') as ((v: unknown[]) => boolean) | undefined;
      if (!element || !ok) return undefined;
      return (v) => {
        if (!Array.isArray(v)) return FAIL;
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          const item = element(v[i]);
          if (item === FAIL) return FAIL;
          out[i] = item;
        }
        return ok(out) ? out : FAIL;
      };
    }
    case 'object':
      return compileObject(def);
    default:
      return undefined;
  }
}

/** A strict object (unknown keys rejected): the output has the present keys in the order of the shape, like zod's. */
function compileObject(def: Def): Node | undefined {
  if (defOf(def.catchall ?? { _zod: { def: { type: 'none' } } }).type !== 'never') return undefined;
  const fields: { key: string; optional: boolean; node: Node }[] = [];
  for (const [key, fieldSchema] of Object.entries(def.shape as Record<string, unknown>)) {
    const fieldDef = defOf(fieldSchema);
    const optional = fieldDef.type === 'optional';
    if (optional && !known(fieldDef, KNOWN_DEF_KEYS.optional)) return undefined;
    const node = compileNode(optional ? fieldDef.innerType : fieldSchema);
    if (!node) return undefined;
    fields.push({ key, optional, node });
  }
  const keys = new Set(fields.map((f) => f.key));
  const ok = compileChecks(def, 'object') as ((v: Record<string, unknown>) => boolean) | undefined;
  if (!ok) return undefined;
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return FAIL;
    const input = v as Record<string, unknown>;
    for (const key in input) if (!keys.has(key)) return FAIL;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const x = input[f.key];
      if (x === undefined) {
        // Absent and optional: skipped, as zod does. A key present with `undefined` (never from JSON): zod decides.
        if (!f.optional || f.key in input) return FAIL;
        continue;
      }
      const y = f.node(x);
      if (y === FAIL) return FAIL;
      out[f.key] = y;
    }
    return ok(out) ? out : FAIL;
  };
}

const COMPILED = new WeakMap<object, FastPath | null>();

/**
 * The fast path of a data schema (compiled on first use), or undefined when the schema uses something it does not
 * support. Returns the output `schema.safeParse(data)` gives when it succeeds, or undefined: then ask zod.
 */
export function fastPathOf(schema: z.ZodType): FastPath | undefined {
  let compiled = COMPILED.get(schema);
  if (compiled === undefined) {
    const root = defOf(schema).type === 'object' ? compileNode(schema) : undefined;
    compiled = root
      ? (data) => {
          const out = root(data);
          return out === FAIL ? undefined : (out as Record<string, unknown>);
        }
      : null;
    COMPILED.set(schema, compiled);
  }
  return compiled ?? undefined;
}
