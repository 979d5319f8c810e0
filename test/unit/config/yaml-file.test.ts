import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { formatPath, formatYamlProblem, loadYamlFile, parseYaml, type YamlProblem } from '../../../src/config/yaml-file.js';

const SCHEMA = z.strictObject({
  name: z.string(),
  sites: z.array(
    z.strictObject({
      id: z.string(),
      limits: z.strictObject({ max: z.number().max(100, { message: 'must be ≤ 100' }) }),
    }),
  ),
});

const VALID = ['name: plant', 'sites:', '  - id: a', '    limits:', '      max: 50', ''].join('\n');

function problemsOf(text: string): YamlProblem[] {
  const res = parseYaml(text, 'f.yaml', SCHEMA);
  if (res.ok) throw new Error('expected problems');
  return res.problems;
}

const CASES: { name: string; text: string[]; expected: Partial<YamlProblem> }[] = [
  {
    name: 'an unclosed flow sequence is reported where the parser meets the next line',
    text: ['name: plant', 'sites:', '  - id: a', '    limits: [1, 2', '  - id: b'],
    expected: { line: 5, path: '', message: expect.stringMatching(/Flow sequence/) as unknown as string },
  },
  {
    name: 'a nested mapping on one line is reported at its line and column',
    text: ['name: plant', 'sites:', '  - id: a', '    limits: max: 1'],
    expected: { line: 4, col: 13, path: '', message: 'Nested mappings are not allowed in compact mappings' },
  },
  {
    name: 'a tab used as indentation is reported at its line',
    text: ['name: plant', 'sites:', '  - id: a', '\tlimits: 1'],
    expected: { line: 4, col: 1, path: '', message: 'Tabs are not allowed as indentation' },
  },
  {
    name: 'a duplicate key is reported at the second occurrence',
    text: ['name: plant', 'sites: []', 'name: other'],
    expected: { line: 3, col: 1, path: '', message: 'Map keys must be unique' },
  },
  {
    name: 'a schema error at a nested path is reported at that node',
    text: ['name: plant', 'sites:', '  - id: a', '    limits:', '      max: 50', '  - id: b', '    limits:', '      max: 150'],
    expected: { line: 8, col: 12, path: 'sites[1].limits.max', message: 'must be ≤ 100' },
  },
  {
    name: 'a wrong type in a flow mapping is reported at the value',
    text: ['name: plant', 'sites:', '  - { id: a, limits: { max: lots } }'],
    expected: { line: 3, col: 29, path: 'sites[0].limits.max' },
  },
  {
    name: 'a missing key is reported at its parent',
    text: ['name: plant', 'sites:', '  - id: a', '    limits:', '      max: 5', '  - limits:', '      max: 7'],
    expected: { line: 6, col: 5, path: 'sites[1].id' },
  },
  {
    name: 'a missing top-level key is reported at the document',
    text: ['', '# comment', 'sites: []'],
    expected: { line: 3, col: 1, path: 'name' },
  },
  {
    name: 'an unknown key is reported at its mapping',
    text: ['name: plant', 'sites:', '  - id: a', '    colour: red', '    limits: { max: 1 }'],
    expected: { line: 3, col: 5, path: 'sites[0]', message: expect.stringContaining('colour') as unknown as string },
  },
];

describe('config/yaml-file', () => {
  test('valid text gives the parsed value', () => {
    expect(parseYaml(VALID, 'f.yaml', SCHEMA)).toEqual({ ok: true, value: { name: 'plant', sites: [{ id: 'a', limits: { max: 50 } }] } });
  });

  test.each(CASES)('$name', ({ text, expected }) => {
    const found = problemsOf(text.join('\n'));
    expect(found[0]).toMatchObject({ file: 'f.yaml', ...expected });
  });

  test('every schema problem of a file is reported at once', () => {
    const found = problemsOf(['name: 3', 'sites:', '  - id: a', '    limits: { max: 500 }'].join('\n'));
    expect(found.map((p) => `${p.line} ${p.path}`)).toEqual(['1 name', '4 sites[0].limits.max']);
  });

  test('a problem is formatted as file:line:col path: message', () => {
    expect(formatYamlProblem({ file: 'a.yaml', line: 3, col: 7, path: 'rules[0].for', message: 'bad' })).toBe('a.yaml:3:7 rules[0].for: bad');
    expect(formatYamlProblem({ file: 'a.yaml', line: 1, col: 1, path: '', message: 'syntax' })).toBe('a.yaml:1:1 syntax');
  });

  test('a path is formatted with dots for keys and brackets for indices', () => {
    expect(formatPath(['rules', 0, 'levels', 1, 'clear'])).toBe('rules[0].levels[1].clear');
    expect(formatPath([])).toBe('');
  });

  test('loadYamlFile names the file as displayed and reports an unreadable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-yaml-'));
    try {
      const file = join(dir, 'plant.yaml');
      writeFileSync(file, 'name: plant\nsites: {}\n');
      const res = loadYamlFile(file, SCHEMA, 'conf/plant.yaml');
      expect(res.ok).toBe(false);
      if (!res.ok) expect(res.problems[0]).toMatchObject({ file: 'conf/plant.yaml', line: 2, path: 'sites' });
      const missing = loadYamlFile(join(dir, 'nope.yaml'), SCHEMA, 'nope.yaml');
      expect(missing.ok).toBe(false);
      if (!missing.ok) expect(missing.problems[0]).toMatchObject({ file: 'nope.yaml', line: 1, message: expect.stringContaining('ENOENT') as unknown as string });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
