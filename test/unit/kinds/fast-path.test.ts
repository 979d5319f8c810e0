import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { fastPathOf } from '../../../src/kinds/fast-path.js';
import { KINDS } from '../../../src/kinds/index.js';
import type { KindDefinition, KindName } from '../../../src/kinds/kind.js';
import { validateData, validateWithZod } from '../../../src/kinds/validate.js';
import { mulberry32 } from '../../../src/lib/prng.js';
import { EXAMPLE_PAYLOADS } from '../../fixtures/payloads.js';

// The fast path must be invisible: for every payload, the same decision, the same fields and tags in the same order,
// the same errors word for word, as zod alone. Zod is the oracle; payloads are generated around the schema's own
// bounds, enums and patterns (read out of the schema, so a changed bound moves the generated values with it).

type Def = { type: string; [key: string]: unknown };
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

/** Values worth trying for one field: near every bound, each enum value, strings for patterns, wrong types. */
function candidates(schema: unknown, rand: () => number, depth = 0): { likely: unknown[]; any: unknown[] } {
  const def = defOf(schema);
  const wrong: unknown[] = [null, 'x', '5', true, false, [], {}, [1], { a: 1 }, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, -(2 ** 53)];
  switch (def.type) {
    case 'optional':
      return candidates(def.innerType, rand, depth);
    case 'number': {
      const bounds = ((def.checks as { _zod: { def: { check: string; value?: unknown } } }[] | undefined) ?? [])
        .map((c) => c._zod.def.value)
        .filter((v): v is number => typeof v === 'number');
      const lo = Math.min(...bounds, 0);
      const hi = Math.max(...bounds, 1);
      const near = bounds.flatMap((b) => [b, b - 1, b + 1, b - 0.5, b + 0.5, b - 1e-9, b + 1e-9]);
      const inside = Array.from({ length: 6 }, () => lo + (hi - lo) * rand());
      const ints = inside.map(Math.round);
      return { likely: [...ints, ...inside, lo, hi, 0, 31, 99, 32], any: [...near, -0, 0.1, 99, 100, 256, 65536, ...wrong] };
    }
    case 'boolean':
      return { likely: [true, false], any: [0, 1, 'true', null] };
    case 'enum': {
      const values = Object.values(def.entries as Record<string, unknown>);
      return { likely: values, any: [...values.map((v) => String(v).toUpperCase()), `${String(values[0])} `, '', ...wrong] };
    }
    case 'literal': {
      const values = def.values as unknown[];
      return { likely: values, any: [...values.map((v) => String(v)), 3, -1, 0.5, ...wrong] };
    }
    case 'string':
      return {
        likely: ['861234567890123', '8612345678901234', '89860012345678901234', 'ABCDEF0123456789AB', 'v2.1.7', 'RG-GD100 1.0'],
        any: ['', ' ', '86123456789012', '861234567890123x', '8986001234567890123G', 'x'.repeat(64), 'x'.repeat(65), '固件', '\n', 'a'.repeat(23), ...wrong],
      };
    case 'union': {
      const parts = (def.options as unknown[]).map((o) => candidates(o, rand, depth));
      return { likely: parts.flatMap((p) => p.likely), any: parts.flatMap((p) => p.any) };
    }
    case 'array': {
      const el = candidates(def.element, rand, depth + 1);
      const arr = (n: number, pool: unknown[]) => Array.from({ length: n }, () => pool[Math.floor(rand() * pool.length)]);
      return { likely: [1, 2, 3, 4].map((n) => arr(n, el.likely)), any: [[], arr(5, el.likely), arr(2, el.any), arr(3, [...el.likely, ...el.any]), ...wrong] };
    }
    case 'object': {
      const make = (likely: number) => generate(schema, rand, likely, depth + 1);
      return { likely: [make(1), make(1), make(0.9)], any: [{}, make(0.5), make(0.2), ...wrong] };
    }
    default:
      return { likely: wrong, any: wrong };
  }
}

/** One `data` object: a random subset of the schema's keys, each likely valid with probability `pLikely`. */
function generate(schema: unknown, rand: () => number, pLikely: number, depth = 0): unknown {
  const shape = defOf(schema).shape as Record<string, unknown>;
  const keys = Object.keys(shape);
  const out: Record<string, unknown> = {};
  const n = Math.floor(rand() * (keys.length + 1));
  for (let i = 0; i < n; i++) {
    const key = keys[Math.floor(rand() * keys.length)] as string;
    const c = candidates(shape[key], rand, depth);
    const pool = rand() < pLikely ? c.likely : c.any;
    out[key] = pool[Math.floor(rand() * pool.length)];
  }
  if (rand() < 0.04) out[rand() < 0.5 ? 'unknown_field' : '__proto__'] = 1;
  // As devices send it: through JSON (no undefined, no -0 keys lost, `__proto__` an own key).
  return JSON.parse(JSON.stringify(out)) as unknown;
}

/** Fields and tags compared with their key order, and errors word for word. */
const canonical = (r: ReturnType<typeof validateData>): string =>
  r.ok ? JSON.stringify({ fields: Object.entries(r.fields), tags: Object.entries(r.tags) }) : JSON.stringify(r.errors);

describe('kinds/fast-path', () => {
  test.each(Object.keys(KINDS) as KindName[])('compiles the %s schema', (kind) => {
    expect(fastPathOf(KINDS[kind].dataSchema)).toBeDefined();
  });

  test.each(Object.keys(KINDS) as KindName[])('takes the example %s payload and gives what zod gives', (kind) => {
    const def = KINDS[kind];
    const data = JSON.parse(JSON.stringify(EXAMPLE_PAYLOADS[kind].data)) as unknown;
    expect(fastPathOf(def.dataSchema)?.(data)).toBeDefined();
    expect(canonical(validateData(def, data, 'data'))).toBe(canonical(validateWithZod(def, data, 'data')));
  });

  test.each(Object.keys(KINDS) as KindName[])('decides 4000 generated %s payloads exactly as zod does', (kind) => {
    const def: KindDefinition = KINDS[kind];
    const fast = fastPathOf(def.dataSchema);
    const rand = mulberry32(0x9e37 + kind.length);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      const data = i % 97 === 0 ? [null, [], 'x', 5, true][i % 5] : generate(def.dataSchema, rand, i % 3 === 0 ? 0.6 : 0.97);
      const zod = def.dataSchema.safeParse(data);
      const out = fast?.(data);
      // Accepts exactly what zod accepts (never more; on JSON input never less), with zod's output, key order included.
      expect({ data, fastAccepts: out !== undefined }).toEqual({ data, fastAccepts: zod.success });
      if (out !== undefined && zod.success) expect(JSON.stringify(out)).toBe(JSON.stringify(zod.data));
      expect(canonical(validateData(def, data, 'readings[2].data'))).toBe(canonical(validateWithZod(def, data, 'readings[2].data')));
      if (zod.success) accepted++;
      else rejected++;
    }
    // Both sides of the decision were exercised.
    expect(accepted).toBeGreaterThan(400);
    expect(rejected).toBeGreaterThan(400);
  });

  test('follows the bounds, refinements and key order of whatever schema it is given', () => {
    const schema = z
      .strictObject({
        b: z.number().min(0).max(10).optional(),
        a: z.int().gt(-5).lt(5).refine((v) => v !== 3).optional(),
        e: z.enum(['x', 'y']).optional(),
        l: z.array(z.union([z.boolean(), z.int().min(0)])).min(1).max(2).optional(),
      })
      .refine((d) => Object.keys(d).length > 0, { when: (p) => p.issues.length === 0 });
    const fast = fastPathOf(schema);
    expect(fast).toBeDefined();
    const cases: unknown[] = [{ b: 10 }, { b: 10.01 }, { a: -5 }, { a: -4 }, { a: 3 }, { a: 4.5 }, { e: 'y' }, { e: 'z' }, { l: [true, 7] }, { l: [] }, { l: [1, 2, 3] }, { l: [-1] }, {}, { c: 1 }, { e: 'x', b: 1, a: 0 }];
    for (const data of cases) {
      const zod = schema.safeParse(data);
      const out = fast?.(data);
      expect({ data, ok: out !== undefined }).toEqual({ data, ok: zod.success });
      if (out !== undefined) expect(JSON.stringify(out)).toBe(JSON.stringify(zod.data));
    }
  });

  test('leaves a schema it does not know to zod', () => {
    expect(fastPathOf(z.strictObject({ at: z.string().email() }))).toBeUndefined();
    expect(fastPathOf(z.strictObject({ n: z.number().transform((v) => v * 2) }))).toBeUndefined();
    expect(fastPathOf(z.object({ n: z.number() }))).toBeUndefined(); // not strict: zod strips unknown keys
    expect(fastPathOf(z.strictObject({ n: z.number().default(1) }))).toBeUndefined();
  });
});
