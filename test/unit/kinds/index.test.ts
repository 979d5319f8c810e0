import { describe, expect, test } from 'vitest';
import type { z } from 'zod';
import { getKind, KINDS } from '../../../src/kinds/index.js';
import { KIND_NAMES } from '../../../src/kinds/kind.js';
import { EXAMPLE_PAYLOADS } from '../../fixtures/payloads.js';
import { expectAccepted } from './cases.js';

const LABELS_ZH = {
  gas: '燃气泄漏报警',
  dust: '粉尘涉爆监测',
  electrical_fire: '电气火灾监控',
  smoke: '烟感',
  vehicle: '车辆动态监控',
} as const;

describe('kinds/index', () => {
  test.each(KIND_NAMES.map((name) => ({ name })))('registers $name under its own name and Chinese label', ({ name }) => {
    expect(KINDS[name].name).toBe(name);
    expect(KINDS[name].labelZh).toBe(LABELS_ZH[name]);
    expect(getKind(name)).toBe(KINDS[name]);
  });

  test('returns undefined for a name that is not a kind, including prototype keys', () => {
    for (const name of ['uitd', 'Gas', '', '__proto__', 'toString', 'constructor']) expect(getKind(name)).toBeUndefined();
  });

  test.each(KIND_NAMES.map((name) => ({ name })))('accepts the $name example payload and labels every field it produces', ({ name }) => {
    const def = KINDS[name];
    const { fields, tags } = expectAccepted(def, EXAMPLE_PAYLOADS[name].data);
    for (const key of [...Object.keys(fields), ...Object.keys(tags)]) expect(def.fields[key], `${name}.${key}`).toBeDefined();
    for (const value of Object.values(fields)) expect(['number', 'boolean']).toContain(typeof value);
    for (const value of Object.values(tags)) expect(typeof value).toBe('string');
  });

  test.each(KIND_NAMES.map((name) => ({ name })))('has a unit and a Chinese label for every $name wire field', ({ name }) => {
    const def = KINDS[name];
    const shape = (def.dataSchema as unknown as z.ZodObject).shape;
    for (const key of Object.keys(shape)) {
      const stored = Object.keys(def.fields).filter((f) => f === key || f.startsWith(`${key}_`));
      expect(stored.length, `${name}.${key}`).toBeGreaterThan(0);
    }
    for (const [key, info] of Object.entries(def.fields)) {
      expect(typeof info.unit, `${name}.${key}`).toBe('string');
      expect(info.labelZh, `${name}.${key}`).toMatch(/\S/);
    }
  });
});
