import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { KIND_NAMES } from '../../../src/kinds/kind.js';
import { DEFAULT_CONTINUOUS_DRIVING } from '../../../src/rules/evaluators/continuous-driving.js';
import { loadRules } from '../../../src/rules/loader.js';
import { EVALUATORS } from '../../../src/rules/registry.js';
import { RULE_BASE_SHAPE } from '../../../src/rules/rule-base.js';
import { REPO_ROOT } from '../../helpers/gateway.js';

// docs/rules.md is the reference of the rule types and of the shipped packs: these checks keep it in step with
// src/rules/registry.ts, the types' schemas and alert-rules/.

const DOC = readFileSync(join(REPO_ROOT, 'docs/rules.md'), 'utf8');
const RULES_DIR = join(REPO_ROOT, 'alert-rules');
const loaded = loadRules(RULES_DIR, REPO_ROOT);
if (!loaded.ok) throw new Error(loaded.problems.map(formatYamlProblem).join('\n'));
const SHIPPED = loaded.rules;

/** The raw YAML object of every shipped rule, by id (examples are compared with it). */
const RAW = new Map<string, Record<string, unknown>>();
for (const name of readdirSync(RULES_DIR).filter((n) => /\.ya?ml$/.test(n))) {
  const file = parse(readFileSync(join(RULES_DIR, name), 'utf8')) as { rules: Record<string, unknown>[] };
  for (const r of file.rules) RAW.set(r.id as string, r);
}

/** The text from a heading line to the next heading of the same or a higher level (outside code blocks). */
function section(heading: string): string {
  const lines = DOC.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) return '';
  const depth = heading.indexOf(' ');
  let fenced = false;
  let end = start + 1;
  for (; end < lines.length; end++) {
    const l = lines[end] as string;
    if (l.startsWith('```')) fenced = !fenced;
    else if (!fenced && /^#+ /.test(l) && l.indexOf(' ') <= depth) break;
  }
  return lines.slice(start + 1, end).join('\n');
}

/** Cells of the rows of the first markdown table whose header starts with `firstHeader`. */
function table(text: string, firstHeader: string): string[][] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  if (at < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(' | ').map((c) => c.trim()));
  }
  return rows;
}

const unquote = (cell: string): string => cell.replace(/^`|`$/g, '');

/** Top-level keys of a type's YAML object (the schema is an object refined and transformed into the rule). */
function schemaKeys(schema: z.ZodType): string[] {
  const input = schema instanceof z.ZodPipe ? schema.in : schema;
  if (!(input instanceof z.ZodObject)) throw new Error('expected a rule schema of the form z.strictObject(…).transform(…)');
  return Object.keys(input.shape);
}

/** Roots of the keys in the first column of a section's key table (`levels[].clear` → `levels`). */
const documentedKeys = (text: string): string[] => [...new Set(table(text, 'key').map((r) => unquote(r[0] as string).split(/[.[]/)[0] as string))];

/** Every `level` anywhere in a parsed rule (levels[], bits[], windows[], classes{}, zones[], level). */
function levelsOf(v: unknown, out = new Set<number>()): Set<number> {
  if (Array.isArray(v)) v.forEach((x) => levelsOf(x, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'level' && typeof x === 'number') out.add(x);
      else levelsOf(x, out);
    }
  }
  return out;
}

/** The types with a `### \`type\`` section under "Rule types". */
const typeHeadings = (): string[] => [...section('## Rule types').matchAll(/^### `([a-z_]+)`$/gm)].map((m) => m[1] as string);

const COMMON = [...Object.keys(RULE_BASE_SHAPE), 'type'];
const TYPES = Object.keys(EVALUATORS);

describe('docs/rules.md rule types', () => {
  test('every rule type of the registry has a section, and no other type does', () => {
    expect(typeHeadings().sort()).toEqual([...TYPES].sort());
  });

  test('the common keys table lists the keys every rule has', () => {
    expect(documentedKeys(section('## Common keys')).sort()).toEqual([...COMMON].sort());
  });

  test.each(TYPES)('the key table of %s lists exactly the keys of its schema', (type) => {
    const keys = schemaKeys((EVALUATORS[type] as { schema: z.ZodType }).schema).filter((k) => !COMMON.includes(k));
    expect(documentedKeys(section(`### \`${type}\``)).sort()).toEqual(keys.sort());
  });
});

describe('docs/rules.md default packs table', () => {
  const rows = table(section('## Default packs'), 'rule id').map((r) => ({ id: unquote(r[0] as string), type: unquote(r[1] as string), levels: r[2] as string }));

  test('lists every shipped rule id once, and no other', () => {
    const ids = rows.map((r) => r.id);
    expect(ids.length, 'an id appears twice').toBe(new Set(ids).size);
    expect([...ids].sort()).toEqual([...SHIPPED.byId.keys()].sort());
  });

  test.each(rows)('$id: type and level(s) are those of the pack', ({ id, type, levels }) => {
    const rule = SHIPPED.byId.get(id);
    if (!rule) return; // reported by the test above
    expect(type).toBe(rule.type);
    expect(levels).toBe([...levelsOf(rule)].sort((a, b) => a - b).join(', '));
  });

  test('the overrides table lists every shipped override', () => {
    const listed = table(section('## Default packs'), 'rule').map((r) => `${unquote(r[0] as string)} ${r[1]} ${r[2]}`);
    const shipped = [...SHIPPED.overrides].flatMap(([id, vs]) => vs.map((v) => `${id} ${v.tenant ?? '—'} ${v.region ?? '—'}`));
    expect(listed.sort()).toEqual(shipped.sort());
  });
});

describe('docs/rules.md YAML examples', () => {
  const blocks = [...DOC.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m, i) => ({ n: i + 1, text: m[1] as string }));

  test('there are examples', () => expect(blocks.length).toBeGreaterThan(TYPES.length));

  test.each(blocks)('example $n is valid and matches the shipped packs', ({ text }) => {
    const doc = parse(text) as Record<string, unknown>;
    if ('rules' in doc) {
      expect(KIND_NAMES).toContain(doc.kind);
      for (const rule of doc.rules as Record<string, unknown>[]) {
        const evaluator = EVALUATORS[rule.type as string];
        expect(evaluator, `unknown type ${String(rule.type)}`).toBeDefined();
        const parsed = evaluator?.schema.safeParse(rule);
        expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
        // An example citing a shipped id shows that rule as shipped (keys may be left out, not changed).
        const raw = RAW.get(rule.id as string);
        if (raw) for (const [k, v] of Object.entries(rule)) expect(v, `${String(rule.id)}.${k}`).toEqual(raw[k]);
      }
    } else if ('overrides' in doc) {
      for (const o of doc.overrides as { rule: string; set: Record<string, unknown> }[]) {
        const raw = RAW.get(o.rule);
        expect(raw, `no shipped rule ${o.rule}`).toBeDefined();
        const parsed = EVALUATORS[raw?.type as string]?.schema.safeParse({ ...raw, ...o.set });
        expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
      }
    } else if ('classes' in doc) {
      expect(doc.classes).toEqual(DEFAULT_CONTINUOUS_DRIVING.classes);
    } else {
      throw new Error(`example ${text.slice(0, 40)}… is neither a rule file, an overrides file nor a classes table`);
    }
  });
});
