import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { KIND_NAMES } from '../../../src/kinds/kind.js';
import { loadRules } from '../../../src/rules/loader.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const SHIPPED = join(ROOT, 'alert-rules');

/** A valid rule in block style, lines joined by the caller; `extra` lines go before `levels`. */
function ruleLines(id: string, extra: string[] = [], levels: string[] = ['      - { level: 2, value: 70, clear: 65 }']): string[] {
  return [`  - id: ${id}`, '    type: threshold', '    title: 测试规则', '    standard: test §1', '    field: x', ...extra, '    levels:', ...levels];
}

const file = (kind: string, ...rules: string[][]): string => [`kind: ${kind}`, 'rules:', ...rules.flat(), ''].join('\n');

/** Each case is one directory of files; `problems` are the formatted `file:line:col path: message` lines, in order. */
const BAD_DIRS: { name: string; files: Record<string, string>; problems: (string | RegExp)[] }[] = [
  {
    name: 'an unknown rule type',
    files: { 'gas.yaml': file('gas', ['  - id: gas.x', '    type: thresh', '    title: t', '    standard: s']) },
    problems: [/^gas\.yaml:4:11 rules\[0\]\.type: unknown rule type "thresh" \(known: .*threshold/],
  },
  {
    name: 'a rule without a type',
    files: { 'gas.yaml': file('gas', ['  - id: gas.x', '    title: t']) },
    problems: [/^gas\.yaml:3:5 rules\[0\]\.type: unknown rule type undefined \(known: .*threshold/],
  },
  {
    name: 'a missing required field (standard), at the rule',
    files: { 'gas.yaml': file('gas', ruleLines('gas.a'), ['  - id: gas.b', '    type: threshold', '    title: t', '    field: x', '    levels: [{ level: 2, value: 5 }]']) },
    problems: [/^gas\.yaml:10:5 rules\[1\]\.standard: .*expected string/],
  },
  {
    name: 'neither field nor fields',
    files: { 'gas.yaml': file('gas', ['  - id: gas.x', '    type: threshold', '    title: t', '    standard: s', '    levels: [{ level: 2, value: 5 }]']) },
    problems: ['gas.yaml:3:5 rules[0].field: give exactly one of field or fields'],
  },
  {
    name: 'level 5',
    files: { 'gas.yaml': file('gas', ruleLines('gas.x', [], ['      - level: 5', '        value: 70'])) },
    problems: ['gas.yaml:9:16 rules[0].levels[0].level: must be 1 (红), 2 (橙), 3 (黄) or 4 (蓝)'],
  },
  {
    name: 'clear above value for direction above',
    files: { 'gas.yaml': file('gas', ruleLines('gas.x', [], ['      - level: 2', '        value: 70', '        clear: 75'])) },
    problems: ['gas.yaml:11:16 rules[0].levels[0].clear: clear must be ≤ value for direction above'],
  },
  {
    name: 'clear below value for direction below',
    files: { 'gas.yaml': file('gas', ruleLines('gas.x', ['    direction: below'], ['      - level: 4', '        value: 20', '        clear: 15'])) },
    problems: ['gas.yaml:12:16 rules[0].levels[0].clear: clear must be ≥ value for direction below'],
  },
  {
    name: 'a more severe level with a milder value',
    files: { 'gas.yaml': file('gas', ruleLines('gas.x', [], ['      - { level: 2, value: 20 }', '      - { level: 3, value: 50 }'])) },
    problems: ['gas.yaml:9:7 rules[0].levels: level 2 must be above level 3 (a more severe level needs a worse value)'],
  },
  {
    name: 'a duplicate id within a file, at the second id',
    files: { 'gas.yaml': file('gas', ruleLines('gas.x'), ruleLines('gas.x')) },
    problems: ['gas.yaml:10:9 rules[1].id: duplicate rule id gas.x'],
  },
  {
    name: 'a duplicate id across files, at the id in the later file',
    files: { 'a-gas.yaml': file('gas', ruleLines('gas.x')), 'b-gas.yaml': file('gas', ruleLines('gas.y'), ruleLines('gas.x')) },
    problems: ['b-gas.yaml:10:9 rules[1].id: rule id gas.x is already defined in a-gas.yaml'],
  },
  {
    name: 'a bad duration `for: 10x`',
    files: { 'vehicle.yaml': file('vehicle', ruleLines('vehicle.x', ['    for: 10x'])) },
    problems: ['vehicle.yaml:8:10 rules[0].for: must be a duration such as 30s, 5m, 1h (or ms as a number)'],
  },
  {
    name: 'a YAML syntax error',
    files: { 'gas.yaml': ['kind: gas', 'rules:', '  - id: gas.x', '    title: t: u', ''].join('\n') },
    problems: ['gas.yaml:4:12 Nested mappings are not allowed in compact mappings'],
  },
  {
    name: 'an unknown key in a rule, at the rule',
    files: { 'gas.yaml': file('gas', ruleLines('gas.x', ['    colour: red'])) },
    problems: ['gas.yaml:3:5 rules[0]: Unrecognized key: "colour"'],
  },
  {
    name: 'an unknown key in a level, at the level',
    files: { 'gas.yaml': file('gas', ruleLines('gas.x', [], ['      - { level: 2, value: 70, colour: red }'])) },
    problems: ['gas.yaml:9:9 rules[0].levels[0]: Unrecognized key: "colour"'],
  },
  {
    name: 'an unknown kind',
    files: { 'gas.yaml': file('methane', ruleLines('gas.x')) },
    problems: ['gas.yaml:1:7 kind: must be one of gas, dust, electrical_fire, smoke, vehicle'],
  },
  {
    name: 'problems in several files, all reported',
    files: { 'a.yaml': file('gas', ruleLines('gas.a', ['    for: 1 week'])), 'b.yml': file('dust', ruleLines('Dust.B')) },
    problems: ['a.yaml:8:10 rules[0].for: must be a duration such as 30s, 5m, 1h (or ms as a number)', /^b\.yml:3:9 rules\[0\]\.id: must be lower-case/],
  },
];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'rg-rules-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function writeDir(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

describe('rules/loader', () => {
  test('the shipped alert-rules load with no problems', () => {
    const res = loadRules(SHIPPED, ROOT);
    if (!res.ok) throw new Error(res.problems.map(formatYamlProblem).join('\n'));
    expect(res.rules.files).toEqual(['dust.yaml', 'electrical_fire.yaml', 'gas.yaml', 'smoke.yaml', 'vehicle.yaml', 'overrides/household-gas.yaml'].map((f) => join('alert-rules', f)));
    expect(res.rules.byId.size).toBeGreaterThan(0);
  });

  test('every shipped rule cites a standard and every kind has rules', () => {
    const res = loadRules(SHIPPED, ROOT);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    for (const r of res.rules.byId.values()) expect(r.standard.trim(), r.id).not.toBe('');
    for (const kind of KIND_NAMES) expect(res.rules.byKind[kind].length, kind).toBeGreaterThan(0);
    for (const [kind, rules] of Object.entries(res.rules.byKind)) for (const r of rules) expect(r.kind).toBe(kind);
  });

  test('a disabled rule is known by id but not evaluated', () => {
    const dir = writeDir('disabled', { 'gas.yaml': file('gas', ruleLines('gas.on'), ruleLines('gas.off', ['    enabled: false'])) });
    const res = loadRules(dir, dir);
    if (!res.ok) throw new Error(res.problems.map(formatYamlProblem).join('\n'));
    expect([...res.rules.byId.keys()]).toEqual(['gas.on', 'gas.off']);
    expect(res.rules.byKind.gas.map((r) => r.id)).toEqual(['gas.on']);
  });

  test('files that are not .yaml or .yml are ignored', () => {
    const dir = writeDir('others', { 'gas.yaml': file('gas', ruleLines('gas.x')), 'README.md': '# not rules', 'gas.yaml.bak': 'kind: [' });
    const res = loadRules(dir, dir);
    expect(res.ok).toBe(true);
  });

  test('a missing directory is one problem naming it', () => {
    const res = loadRules(join(tmp, 'nope'), tmp);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.problems[0]?.message).toMatch(/ENOENT/);
  });

  test.each(BAD_DIRS)('$name is reported at file:line with its message', ({ name, files, problems }) => {
    const dir = writeDir(name, files);
    const res = loadRules(dir, dir);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    const lines = res.problems.map(formatYamlProblem);
    expect(lines).toHaveLength(problems.length);
    problems.forEach((p, i) => (typeof p === 'string' ? expect(lines[i]).toBe(p) : expect(lines[i]).toMatch(p)));
  });
});

describe('cli rules check', () => {
  const cli = (dir: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'rules', 'check', dir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

  test('exits 0 and prints ok for the shipped alert-rules', () => {
    const res = cli('alert-rules');
    expect(res.error).toBeUndefined();
    expect(res.stdout).toMatch(/^ok: \d+ rules in alert-rules\/dust\.yaml, /);
    expect(res.status).toBe(0);
  });

  test('exits 1 and prints file:line for a bad directory', () => {
    const dir = writeDir('cli-bad', { 'vehicle.yaml': file('vehicle', ruleLines('vehicle.x', ['    for: 10x'])) });
    const res = cli(dir);
    expect(res.error).toBeUndefined();
    expect(res.stderr).toContain('vehicle.yaml:8:10 rules[0].for: must be a duration');
    expect(res.stdout).toBe('');
    expect(res.status).toBe(1);
  });
});
