import { existsSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import { KIND_NAMES, type KindName } from '../kinds/kind.js';
import { loadYamlFile, type YamlProblem } from '../config/yaml-file.js';
import { EVALUATORS } from './registry.js';
import type { RuleBase } from './types.js';

/** A rule as overridden for one tenant and/or region (`alert-rules/overrides/*.yaml`). */
export interface RuleVariant {
  tenant?: string;
  /** GB/T 2260 code prefix: `5101` covers every district of Chengdu. */
  region?: string;
  rule: RuleBase;
}

/** All rules in force, by kind, in file order. */
export interface RuleSet {
  byKind: Record<KindName, RuleBase[]>;
  /** Every rule by id. */
  byId: Map<string, RuleBase>;
  /** Per-tenant / per-region variants by rule id, most specific first. */
  overrides: Map<string, RuleVariant[]>;
  files: string[];
}

/** The rule as it applies to a device: the most specific override matching its tenant and region, else the rule. */
export function resolveRule(set: RuleSet, rule: RuleBase, device: { tenant: string; region?: string }): RuleBase {
  const variants = set.overrides.get(rule.id);
  if (!variants) return rule;
  for (const v of variants) {
    if (v.tenant !== undefined && v.tenant !== device.tenant) continue;
    if (v.region !== undefined && !(device.region ?? '').startsWith(v.region)) continue;
    return v.rule;
  }
  return rule;
}

/** The YAML object each parsed rule came from, so overrides can be merged over it and validated again. */
const RAW = new WeakMap<object, Record<string, unknown>>();

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
  const rule = parsed.data as Omit<RuleBase, 'kind' | 'source'>;
  RAW.set(rule, value as Record<string, unknown>);
  return rule;
});

const OVERRIDE_FILE = z.strictObject({
  overrides: z.array(
    z.strictObject({
      rule: z.string().min(1),
      tenant: z.string().min(1).max(64).optional(),
      region: z.string().regex(/^\d{2,12}$/, { message: 'must be a GB/T 2260 code or prefix (digits)' }).optional(),
      /** Keys of the rule to replace (levels, for, enabled, …). */
      set: z.record(z.string(), z.unknown()),
    }),
  ),
});

const specificity = (v: RuleVariant): number => (v.tenant !== undefined ? 100 : 0) + (v.region?.length ?? 0);

/** Loads `overrides/*.yaml`: each override is the base rule's YAML with `set` merged over it, validated again. */
function loadOverrides(dir: string, displayRoot: string, byId: Map<string, RuleBase>, problems: YamlProblem[], files: string[]): Map<string, RuleVariant[]> {
  const out = new Map<string, RuleVariant[]>();
  if (!existsSync(dir)) return out;
  const names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  for (const name of names) {
    const path = join(dir, name);
    const display = relative(displayRoot, path) || basename(path);
    const schema = OVERRIDE_FILE.transform((f, ctx) => {
      const variants: { id: string; v: RuleVariant }[] = [];
      f.overrides.forEach((o, i) => {
        if (o.tenant === undefined && o.region === undefined) {
          ctx.addIssue({ code: 'custom', path: ['overrides', i, 'tenant'], message: 'an override needs a tenant and/or a region' });
          return;
        }
        const base = byId.get(o.rule);
        if (!base) {
          ctx.addIssue({ code: 'custom', path: ['overrides', i, 'rule'], message: `no rule ${o.rule} to override` });
          return;
        }
        if ('id' in o.set || 'type' in o.set) {
          ctx.addIssue({ code: 'custom', path: ['overrides', i, 'set'], message: 'an override may not change id or type' });
          return;
        }
        const evaluator = EVALUATORS[base.type];
        const parsed = evaluator?.schema.safeParse({ ...RAW.get(base), ...o.set });
        if (!parsed?.success) {
          for (const issue of parsed?.error.issues ?? []) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'set', ...(issue.path as (string | number)[])], message: issue.message });
          return;
        }
        const rule = { ...(parsed.data as Omit<RuleBase, 'kind' | 'source'>), kind: base.kind, source: display };
        variants.push({ id: base.id, v: { tenant: o.tenant, region: o.region, rule } });
      });
      return variants;
    });
    const res = loadYamlFile(path, schema, display);
    if (!res.ok) {
      problems.push(...res.problems);
      continue;
    }
    files.push(display);
    for (const { id, v } of res.value) out.set(id, [...(out.get(id) ?? []), v].sort((a, b) => specificity(b) - specificity(a)));
  }
  return out;
}

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

/**
 * Loads and validates every `*.yaml` / `*.yml` in `dir`, then the per-tenant / per-region overrides in
 * `dir/overrides/`; any problem rejects the whole set (the old one stays in force).
 */
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
      RAW.set(rule, RAW.get(r) ?? {});
      byId.set(rule.id, rule);
      if (rule.enabled) byKind[rule.kind].push(rule);
    }
  }
  const overrides = problems.length === 0 ? loadOverrides(join(dir, 'overrides'), displayRoot, byId, problems, files) : new Map<string, RuleVariant[]>();
  if (problems.length > 0) return { ok: false, problems };
  // Time-driven rules (offline) first: a reading that ends a device's silence clears its offline alert before the
  // value rules run, so they are not inhibited by an alert that is about to clear.
  for (const k of KIND_NAMES) byKind[k].sort((a, b) => Number(!EVALUATORS[a.type]?.tick) - Number(!EVALUATORS[b.type]?.tick));
  return { ok: true, rules: { byKind, byId, overrides, files } };
}
