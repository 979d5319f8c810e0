import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { compileExpression, expressionEvaluator as ev, type ExpressionRule } from '../../../src/rules/evaluators/expression.js';
import { loadRules } from '../../../src/rules/loader.js';
import { buildRule, run, wants, type Step } from './harness.js';

const rule = (yaml: Record<string, unknown>): ExpressionRule => buildRule(ev, yaml, 'dust');

// domain.md §7.2: spark + hopper over-temperature is level 1.
const SPARK_HOT = { when: 'spark_detected && hopper_temp_c > 60', level: 1 };
// domain.md G5: oxygen outside 19.5–23.5 %VOL (GB/T 50493-2019).
const OXYGEN = { when: "gas_type == 'O2' && (concentration_vol < 19.5 || concentration_vol > 23.5)", level: 2 };
// domain.md G9 / §7.2: gas 二级 with the valve not closed.
const VALVE_OPEN = { when: "concentration_lel >= 50 && valve_state != 'closed'", level: 1, value_field: 'concentration_lel' };

const CASES: { name: string; rule: Record<string, unknown>; steps: Step[] }[] = [
  {
    name: 'fires while the condition over several fields holds and clears when it does not',
    rule: SPARK_HOT,
    steps: [
      { f: { spark_detected: false, hopper_temp_c: 65 }, want: 'clear' },
      { f: { spark_detected: true, hopper_temp_c: 65 }, want: 'firing:1' },
      { f: { spark_detected: true, hopper_temp_c: 55 }, want: 'clear' },
    ],
  },
  {
    name: 'a missing field says nothing unless the logic decides without it',
    rule: SPARK_HOT,
    steps: [
      { f: { spark_detected: true }, want: '-' },
      { f: { hopper_temp_c: 80 }, want: '-' },
      { f: { battery_pct: 50 }, want: '-' },
      { f: { spark_detected: false }, want: 'clear' },
      { f: { hopper_temp_c: 20 }, want: 'clear' },
    ],
  },
  {
    name: 'tags are variables too (oxygen out of range)',
    rule: OXYGEN,
    steps: [
      { f: { concentration_vol: 20.9 }, t: { gas_type: 'O2' }, want: 'clear' },
      { f: { concentration_vol: 18 }, t: { gas_type: 'O2' }, want: 'firing:2' },
      { f: { concentration_vol: 24 }, t: { gas_type: 'O2' }, want: 'firing:2' },
      { f: { concentration_lel: 10 }, t: { gas_type: 'CH4' }, want: 'clear' },
      { f: { concentration_vol: 18 }, want: '-' },
    ],
  },
  {
    name: 'gas 二级 with the valve not closed',
    rule: VALVE_OPEN,
    steps: [
      { f: { concentration_lel: 55 }, t: { valve_state: 'closed' }, want: 'clear' },
      { f: { concentration_lel: 55 }, t: { valve_state: 'open' }, want: 'firing:1' },
      { f: { concentration_lel: 55 }, t: { valve_state: 'fault' }, want: 'firing:1' },
      { f: { concentration_lel: 30 }, want: 'clear' },
    ],
  },
  {
    name: 'a type error at run time or a result that is not a boolean says nothing',
    rule: { when: 'x > 60', level: 3 },
    steps: [
      { f: { x: 61 }, want: 'firing:3' },
      { t: { x: 'hot' }, want: '-' },
      { f: { x: true }, want: '-' },
      { f: { x: 59 }, want: 'clear' },
    ],
  },
  {
    name: 'a bare variable must be a boolean at run time',
    rule: { when: 'alarm', level: 2 },
    steps: [
      { f: { alarm: true }, want: 'firing:2' },
      { f: { alarm: 3 }, want: '-' },
      { f: { alarm: false }, want: 'clear' },
    ],
  },
  {
    name: 'rule text cannot reach JavaScript: names are only the reading\'s variables',
    rule: { when: 'constructor.name == "Function" || toString == x', level: 1 },
    steps: [
      { f: { x: 1 }, want: '-' },
      { t: { constructor: 'c' }, f: { x: 1 }, want: '-' },
    ],
  },
  {
    name: '`for` holds the condition pending and a restart (state through JSON) keeps the clock',
    rule: { when: 'unloader_running == false && fan_running', level: 3, for: '30s' },
    steps: [
      { s: 0, f: { unloader_running: false, fan_running: true }, want: 'pending:3' },
      { s: 20, restart: true, f: { unloader_running: false, fan_running: true }, want: 'pending:3' },
      { s: 30, restart: true, f: { unloader_running: false, fan_running: true }, want: 'firing:3' },
      { s: 40, restart: true, f: { unloader_running: true, fan_running: true }, want: 'clear' },
    ],
  },
];

describe('rules/evaluators/expression', () => {
  test.each(CASES)('$name', ({ rule: yaml, steps }) => {
    expect(run(ev, rule(yaml), steps)).toEqual(wants(steps));
  });

  test('`value_field` is reported as the alert value', () => {
    const values: (number | undefined)[] = [];
    run(ev, rule(VALVE_OPEN), [{ f: { concentration_lel: 62.5 }, t: { valve_state: 'open' }, want: '' }], { each: (r) => values.push(r?.value) });
    expect(values).toEqual([62.5]);
  });

  test('resuming an active alert fires at once, skipping `for`', () => {
    const r = rule({ ...SPARK_HOT, for: '1m' });
    const steps: Step[] = [
      { f: { spark_detected: true, hopper_temp_c: 70 }, want: 'firing:1' },
      { f: { spark_detected: false }, want: 'clear' },
    ];
    expect(run(ev, r, steps, { state: ev.initialState(r, { level: 1 }) })).toEqual(wants(steps));
  });

  test('a call of something that is not a CEL function is rejected when the rule loads', () => {
    const c = compileExpression('process.exit(1) == 1');
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.message).toMatch(/^invalid CEL expression: found no matching overload for 'dyn\.exit\(int\)'/);
  });

  test('a program is compiled once per expression text', () => {
    const a = compileExpression('a > 1 && b');
    const b = compileExpression('a > 1 && b');
    expect(a.ok && b.ok && a.program === b.program).toBe(true);
  });

  test.each([
    { name: 'a syntax error', when: 'spark_detected && && hot', message: /^invalid CEL expression: .*\(at column \d+ of the expression\)$/ },
    { name: 'a type error', when: '1 + "a" > 0', message: /^invalid CEL expression: no such overload/ },
    { name: 'a result that is not a condition', when: '1 + 2', message: 'must be a condition (bool), not int' },
    { name: 'an expression over the size limits', when: Array.from({ length: 300 }, () => 'a').join('||'), message: /^invalid CEL expression/ },
    { name: 'an empty expression', when: '', message: /too small/i },
  ])('schema rejects $name at `when`', ({ when, message }) => {
    const res = ev.schema.safeParse({ id: 'r', type: 'expression', title: 't', standard: 's', when, level: 1 });
    expect(res.success).toBe(false);
    if (res.success) return;
    const issue = res.error.issues.find((i) => i.path.join('.') === 'when');
    expect(issue?.message).toMatch(message);
  });

  test('the loader reports a bad expression at the file and line of `when`', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-expr-'));
    try {
      const yaml = ['kind: dust', 'rules:', '  - id: dust.x', '    type: expression', '    title: 测试', '    standard: test', "    when: 'spark_detected &&'", '    level: 1', ''];
      writeFileSync(join(dir, 'dust.yaml'), yaml.join('\n'));
      const res = loadRules(dir, dir);
      expect(res.ok).toBe(false);
      if (!res.ok) expect(res.problems.map(formatYamlProblem)).toEqual([expect.stringMatching(/^dust\.yaml:7:11 rules\[0\]\.when: invalid CEL expression: /)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
