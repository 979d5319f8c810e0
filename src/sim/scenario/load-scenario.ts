import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { loadYamlFile, parseYaml, type YamlProblem, type YamlResult } from '../../config/yaml-file.js';
import { KINDS } from '../../kinds/index.js';
import { validateData } from '../../kinds/validate.js';
import type { RuleSet } from '../../rules/loader.js';
import { scenarioReadings } from './readings.js';
import { SCENARIO_SCHEMA, type Scenario, type ScenarioDevice } from './schema.js';

const minutes = (ms: number): string => `${Math.round((ms / 60_000) * 1000) / 1000} min`;

/**
 * Every reading the timeline can produce must pass its kind's wire schema (README "Wire contract"), whatever the
 * seed: the noise is bounded, so checking each reading with all its noise at the bottom and at the top of its band
 * covers every seed. One problem per timeline entry, at its first bad field.
 */
function checkReadings(s: Scenario, ctx: z.RefinementCtx): void {
  const reported = new Set<number>();
  for (const mode of ['low', 'high'] as const) {
    for (const r of scenarioReadings(s, mode)) {
      if (reported.has(r.entry)) continue;
      const kind = KINDS[(s.devices[r.device] as ScenarioDevice).device.kind];
      const v = validateData(kind, r.data, 'data');
      if (v.ok) continue;
      reported.add(r.entry);
      const first = v.errors[0];
      const field = /^data\.([^.[]+)/.exec(first?.path ?? '')?.[1];
      ctx.addIssue({
        code: 'custom',
        path: ['timeline', r.entry, 'data', ...(field && field in (s.timeline[r.entry]?.data ?? {}) ? [field] : [])],
        message: `the reading at ${minutes(r.offsetMs)} (noise at its ${mode === 'low' ? 'lowest' : 'highest'}) is not a valid ${kind.name} reading: ${v.errors.map((e) => e.message).join('; ')}`,
      });
    }
  }
}

const CHECKED_SCHEMA = SCENARIO_SCHEMA.superRefine(checkReadings);

/** Parses scenario YAML text; every problem reported as file:line (src/config/yaml-file.ts). */
export function parseScenario(text: string, file: string): YamlResult<Scenario> {
  return parseYaml(text, file, CHECKED_SCHEMA);
}

/**
 * Loads one scenario file. (Not named `loadScenario`: src/sim/scenario-hook.ts looks for a `loadScenario(file, ctx)`
 * with another contract — per-device signal overrides — in this module, and must not find this one.)
 */
export function loadScenarioFile(path: string, display = path): YamlResult<Scenario> {
  return loadYamlFile(path, CHECKED_SCHEMA, display);
}

/** Loads every `*.yaml` / `*.yml` of a directory, in file-name order; any problem in any file fails the whole set. */
export function loadScenarioDir(dir: string, displayDir = dir): YamlResult<Scenario[]> {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const scenarios: Scenario[] = [];
  const problems: YamlProblem[] = [];
  const names = new Map<string, string>();
  for (const f of files) {
    const res = loadScenarioFile(join(dir, f), join(displayDir, f));
    if (!res.ok) {
      problems.push(...res.problems);
      continue;
    }
    const other = names.get(res.value.name);
    if (other) problems.push({ file: join(displayDir, f), line: 1, col: 1, path: 'name', message: `scenario ${res.value.name} is also defined in ${other}` });
    names.set(res.value.name, join(displayDir, f));
    scenarios.push(res.value);
  }
  if (files.length === 0) problems.push({ file: displayDir, line: 1, col: 1, path: '', message: 'no *.yaml scenario files' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: scenarios };
}

/**
 * What is wrong with a scenario's expectations against a rule set: an expected rule that does not exist, is of
 * another kind than its device, or is disabled. Empty when they agree.
 */
export function scenarioRuleProblems(s: Scenario, rules: RuleSet): string[] {
  const out: string[] = [];
  s.expect.forEach((x, i) => {
    const d = (s.devices[x.device] as ScenarioDevice).device;
    const rule = rules.byId.get(x.rule);
    if (!rule) out.push(`${s.name}: expect[${i}]: no rule ${x.rule}`);
    else if (rule.kind !== d.kind) out.push(`${s.name}: expect[${i}]: rule ${x.rule} is for ${rule.kind}, device ${d.tenant}/${d.deviceId} is ${d.kind}`);
    else if (!rule.enabled) out.push(`${s.name}: expect[${i}]: rule ${x.rule} is disabled`);
  });
  return out;
}
