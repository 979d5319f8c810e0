import { expect } from 'vitest';
import type { KindDefinition } from '../../../src/kinds/kind.js';
import { validateData } from '../../../src/kinds/validate.js';

/** A payload `data` that must be rejected, with the first error's exact path and rule. */
export interface RejectCase {
  name: string;
  data: unknown;
  path: string;
  rule: string;
}

/** Validates `data` as the pipeline does (prefix `data`) and returns the result, asserting nothing. */
export function validate(kind: KindDefinition, data: unknown) {
  return validateData(kind, data, 'data');
}

/** Asserts that `data` is rejected with an error at `path` under `rule`, and returns that error's message. */
export function expectRejected(kind: KindDefinition, c: RejectCase): string {
  const result = validate(kind, c.data);
  if (result.ok) throw new Error(`${c.name}: expected a rejection, got ${JSON.stringify(result)}`);
  expect(result.errors.map((e) => [e.path, e.rule])).toContainEqual([c.path, c.rule]);
  const error = result.errors.find((e) => e.path === c.path && e.rule === c.rule);
  expect(error?.message.startsWith(`${c.path}: `)).toBe(true);
  return error?.message ?? '';
}

/** Asserts that `data` is accepted and returns its fields and tags. */
export function expectAccepted(kind: KindDefinition, data: unknown) {
  const result = validate(kind, data);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.errors)}`);
  return result;
}
