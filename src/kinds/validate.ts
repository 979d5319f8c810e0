import type { z } from 'zod';
import type { FieldValue } from '../pipeline/reading.js';
import type { FieldError } from './envelope.js';
import { fastPathOf } from './fast-path.js';
import type { FieldInfo, KindDefinition } from './kind.js';

/** Outcome of {@link validateData}: the reading's fields and tags, or every schema violation found. */
export type ValidateResult =
  | { ok: true; fields: Record<string, FieldValue>; tags: Record<string, string> }
  | { ok: false; errors: FieldError[] };

// Hoisted so the hot path allocates nothing per call; `reportInput` lets error messages quote the bad value.
const PARSE_OPTIONS = { reportInput: true } as const;

/**
 * Validates an envelope's `data` against the kind's schema and splits it into fields and tags.
 * Valid data takes the fast path compiled from the schema (kinds/fast-path.ts: the same output as `safeParse`);
 * anything else goes to zod's `safeParse`, which decides and words the errors. Message building happens only on failure.
 *
 * @param pathPrefix where `data` sits in the payload (`data`, `readings[3].data`); prefixes every error path.
 */
export function validateData(kind: KindDefinition, data: unknown, pathPrefix: string): ValidateResult {
  const fast = fastPathOf(kind.dataSchema)?.(data);
  if (fast !== undefined) {
    const split = kind.toFields(fast);
    return { ok: true, fields: split.fields, tags: split.tags };
  }
  return validateWithZod(kind, data, pathPrefix);
}

/** {@link validateData} without the fast path: zod's `safeParse` decides. Exported for the tests that hold the two equal. */
export function validateWithZod(kind: KindDefinition, data: unknown, pathPrefix: string): ValidateResult {
  const result = kind.dataSchema.safeParse(data, PARSE_OPTIONS);
  if (result.success) {
    const split = kind.toFields(result.data);
    return { ok: true, fields: split.fields, tags: split.tags };
  }
  const errors: FieldError[] = [];
  for (const issue of result.error.issues) toFieldErrors(kind, issue, pathPrefix, errors);
  return { ok: false, errors };
}

/**
 * The generic `toFields`: numbers and booleans become fields, strings become tags, undefined (absent) is skipped.
 * Arrays and objects are left to the kind, which flattens them.
 */
export function splitScalars(data: Readonly<Record<string, unknown>>): {
  fields: Record<string, FieldValue>;
  tags: Record<string, string>;
} {
  const fields: Record<string, FieldValue> = {};
  const tags: Record<string, string> = {};
  for (const key in data) {
    const value = data[key];
    if (typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
    else if (typeof value === 'string') tags[key] = value;
  }
  return { fields, tags };
}

/** `data.temp_c[2]` from `data` and `['temp_c', 2]`. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function toFieldErrors(kind: KindDefinition, issue: z.core.$ZodIssue, prefix: string, out: FieldError[]): void {
  const path = formatPath(prefix, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      // One error per unknown key, so the dead letter names the exact offending field.
      for (const key of issue.keys) {
        const keyPath = formatPath(path, [key]);
        out.push({ path: keyPath, rule: issue.code, message: `${keyPath}: unknown field for kind ${kind.name}` });
      }
      return;
    case 'too_big':
    case 'too_small':
      out.push({ path, rule: issue.code, message: `${path}: ${describeBound(kind, issue)}, got ${describeInput(issue.input)}` });
      return;
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : `a${/^[aeiou]/.test(issue.expected) ? 'n' : ''} ${issue.expected}`;
      out.push({ path, rule: issue.code, message: `${path}: must be ${expected}, got ${describeInput(issue.input)}` });
      return;
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => String(v)).join(', ');
      out.push({ path, rule: issue.code, message: `${path}: must be one of ${allowed}, got ${describeInput(issue.input)}` });
      return;
    }
    case 'invalid_format':
    case 'invalid_union':
      // Schemas give these a readable `error` ("must be a 15–16 digit IMEI"); zod's default is kept otherwise.
      out.push({ path, rule: issue.code, message: `${path}: ${issue.message}, got ${describeInput(issue.input)}` });
      return;
    case 'custom': {
      // Kind-level refinements name their rule in params (`empty_object`), zod's generic `custom` otherwise.
      const rule = typeof issue.params?.rule === 'string' ? issue.params.rule : issue.code;
      out.push({ path, rule, message: `${path}: ${issue.message}` });
      return;
    }
    default:
      out.push({ path, rule: issue.code, message: `${path}: ${issue.message}` });
  }
}

function describeBound(kind: KindDefinition, issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const big = issue.code === 'too_big';
  const limit = big ? (issue as z.core.$ZodIssueTooBig).maximum : (issue as z.core.$ZodIssueTooSmall).minimum;
  const inclusive = issue.inclusive !== false;
  if (issue.origin === 'array' || issue.origin === 'set') {
    return `must have ${big ? 'at most' : 'at least'} ${String(limit)} item${Number(limit) === 1 ? '' : 's'}`;
  }
  if (issue.origin === 'string') return `must have ${big ? 'at most' : 'at least'} ${String(limit)} characters`;
  const op = big ? (inclusive ? '≤' : '<') : inclusive ? '≥' : '>';
  const unit = unitOf(kind.fields, issue.path);
  return `must be ${op} ${String(limit)}${unit ? ` (${unit})` : ''}`;
}

/** The unit of the stored field a wire path ends up in: `temp_c[2]` → `temp_c_3`, `current_a.b` → `current_a_b`. */
function unitOf(fields: Record<string, FieldInfo>, path: readonly PropertyKey[]): string {
  let flat = '';
  for (const segment of path) {
    const part = typeof segment === 'number' ? String(segment + 1) : String(segment);
    flat = flat === '' ? part : `${flat}_${part}`;
  }
  const first = path[0];
  return fields[flat]?.unit ?? (first === undefined ? undefined : fields[String(first)]?.unit) ?? '';
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (input === undefined) return 'nothing';
  if (Array.isArray(input)) return `an array of ${input.length}`;
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  if (typeof input === 'object') return 'an object';
  return String(input);
}
