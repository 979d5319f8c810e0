import { readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import { KIND_NAMES, type KindName } from '../kinds/kind.js';
import { loadYamlFile, type YamlProblem } from '../config/yaml-file.js';
import { EVALUATORS } from './registry.js';
import type { RuleBase } from './types.js';

/** All rules in force, by kind, in file order. */
export interface RuleSet {
  byKind: Record<KindName, RuleBase[]>;
  /** Every rule by id. */
  byId: Map<string, RuleBase>;
  files: string[];
}

const ONE_RULE = z.unknown().transform((value, ctx) => {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  const evaluator = typeof type === 'string' ? EVALUATORS[type] : undefined;
  if (!evaluator) {
    ctx.addIssue({ code: 'custom', path: ['type'], message: `unknown rule type ${JSON.stringify(type)} (known: ${Object.keys(EVALUATORS).join(', ')})` });
    return z.NEVER;
  }
  const parsed = evaluator.schema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as (string | number)[], message: issue.message });
    return z.NEVER;
  }
  return parsed.data as Omit<RuleBase, 'kind' | 'source'>;
});

/** Schema of one rule file; `earlier` (rules of the files already loaded) lets a duplicate id be located at its own line. */
const ruleFile = (earlier: ReadonlyMap<string, Pick<RuleBase, 'source'>>) =>
  z
    .strictObject({
      kind: z.enum(KIND_NAMES, { message: `must be one of ${KIND_NAMES.join(', ')}` }),
      rules: z.array(ONE_RULE),
    })
    .superRefine((f, ctx) => {
      const seen = new Set<string>();
      f.rules.forEach((r, i) => {
        const other = earlier.get(r.id);
        if (other) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `rule id ${r.id} is already defined in ${other.source}` });
        else if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id ${r.id}` });
        seen.add(r.id);
      });
    });

export type RuleLoadResult = { ok: true; rules: RuleSet } | { ok: false; problems: YamlProblem[] };

/** Loads and validates every `*.yaml` / `*.yml` in `dir`; any problem rejects the whole set (the old one stays in force). */
export function loadRules(dir: string, displayRoot = process.cwd()): RuleLoadResult {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    return { ok: false, problems: [{ file: dir, line: 1, col: 1, path: '', message: (err as Error).message }] };
  }
  const byKind = Object.fromEntries(KIND_NAMES.map((k) => [k, [] as RuleBase[]])) as Record<KindName, RuleBase[]>;
  const byId = new Map<string, RuleBase>();
  const problems: YamlProblem[] = [];
  const files: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const display = relative(displayRoot, path) || basename(path);
    const res = loadYamlFile(path, ruleFile(byId), display);
    if (!res.ok) {
      problems.push(...res.problems);
      continue;
    }
    files.push(display);
    for (const r of res.value.rules) {
      const rule: RuleBase = { ...r, kind: res.value.kind, source: display };
      byId.set(rule.id, rule);
      if (rule.enabled) byKind[rule.kind].push(rule);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  // Time-driven rules (offline) first: a reading that ends a device's silence clears its offline alert before the
  // value rules run, so they are not inhibited by an alert that is about to clear.
  for (const k of KIND_NAMES) byKind[k].sort((a, b) => Number(!EVALUATORS[a.type]?.tick) - Number(!EVALUATORS[b.type]?.tick));
  return { ok: true, rules: { byKind, byId, files } };
}
