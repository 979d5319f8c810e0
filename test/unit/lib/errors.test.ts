import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ERRORS, RiskgateError, type ErrorCode } from '../../../src/lib/errors.js';

const DOC = join(resolve(import.meta.dirname, '../../..'), 'docs', 'errors.md');

/** Rows of docs/errors.md whose first column is a code in backticks: code → the HTTP status column. */
function documented(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\|\s*`(RG_ERR_[A-Z0-9_]+)`\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|\s*$/.exec(line);
    if (!m) continue;
    if (rows.has(m[1] as string)) throw new Error(`docs/errors.md lists ${m[1]} twice`);
    rows.set(m[1] as string, m[2] as string);
    expect(m[3], `${m[1]} needs a meaning`).not.toBe('');
    expect(m[4], `${m[1]} needs a "what to do"`).not.toBe('');
  }
  return rows;
}

describe('lib/errors', () => {
  test('docs/errors.md lists exactly the codes of the catalogue', () => {
    expect([...documented().keys()].sort()).toEqual(Object.keys(ERRORS).sort());
  });

  test.each(Object.entries(ERRORS).map(([code, e]) => ({ code, status: e.status })))('docs/errors.md gives $code the status $status', ({ code, status }) => {
    expect(documented().get(code)).toBe(String(status));
  });

  test('every code is upper-case RG_ERR_… with an HTTP error status and a message', () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^RG_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      expect(e.status).toBeGreaterThanOrEqual(400);
      expect(e.status).toBeLessThan(600);
      expect(e.message).not.toBe('');
    }
  });

  test.each<{ code: ErrorCode; message?: string; want: string }>([
    { code: 'RG_ERR_API_NOT_FOUND', want: 'no such resource' },
    { code: 'RG_ERR_RULES_INVALID', message: 'gas.yaml:3:5 bad', want: 'gas.yaml:3:5 bad' },
  ])('a RiskgateError for $code carries its code, status and message', ({ code, message, want }) => {
    const err = new RiskgateError(code, message, { extra: 1 });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'RiskgateError', code, status: ERRORS[code].status, message: want, details: { extra: 1 } });
  });
});
