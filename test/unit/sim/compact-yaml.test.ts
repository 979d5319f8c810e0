import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { parseCompactYaml } from '../../../src/config/compact-yaml.js';

describe('sim/compact-yaml', () => {
  test('reads the generated city fleet exactly as the yaml package does (header, tenants, every 25th device)', () => {
    const all = readFileSync('devices/fleets/city.yaml', 'utf8').split('\n');
    const devicesAt = all.indexOf('devices:');
    const text = [...all.slice(0, devicesAt + 1), ...all.slice(devicesAt + 1).filter((_, i) => i % 25 === 0)].join('\n');
    const fast = parseCompactYaml(text);
    expect(fast).toBeDefined();
    expect(fast).toEqual(parse(text));
  });

  test.each([
    ['plain scalars, numbers, booleans, null, quoted strings and nesting', 'name: x y\nitems:\n  - { a: 1, b: -2.5, c: true, d: null, e: "0510", f: 川A12345, g: [1, [2, 3]], h: { i: 1e3 } }\n  - [a b, "c,d"]\n'],
    ['a top-level flow value and CRLF line ends', 'a: { b: 1 }\r\nc: [1, 2]\r\n'],
    ['digits that YAML reads as numbers', 'x:\n  - { id: 0139, n: +5, f: 1. }\n'],
  ])('agrees with the yaml package on %s', (_what, text) => {
    expect(parseCompactYaml(text)).toEqual(parse(text));
  });

  test.each([
    ['a block mapping', 'devices:\n  - tenant: t1\n    device_id: a\n'],
    ['an anchor', 'a: &x 1\n'],
    ['a comment after a value', 'a: 1 # one\n'],
    ['single quotes', "a: { b: 'c' }\n"],
    ['a YAML-only escape', 'a: "\\x41"\n'],
    ['a duplicate key', 'a: { b: 1, b: 2 }\n'],
    ['a key with nothing under it', 'devices:\n'],
    ['hex and .inf', 'a: [0x1F, .inf]\n'],
    ['a multi-line flow mapping', 'a: { b: 1,\n  c: 2 }\n'],
    ['a tab', 'a:\t1\n'],
    ['a document marker', '---\na: 1\n'],
  ])('declines %s (the caller then uses the full parser)', (_what, text) => {
    expect(parseCompactYaml(text)).toBeUndefined();
  });
});
