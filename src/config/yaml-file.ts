import { readFileSync } from 'node:fs';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

/** One problem in a YAML file, located for a human: `alert-rules/gas.yaml:12:7 rules[0].levels[1].value: must be ≥ 0`. */
export interface YamlProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the offending value, `rules[0].for`; empty for syntax errors. */
  path: string;
  message: string;
}

export type YamlResult<T> = { ok: true; value: T } | { ok: false; problems: YamlProblem[] };

export function formatYamlProblem(p: YamlProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : `${out ? '.' : ''}${String(seg)}`;
  return out;
}

/** Finds the line of the deepest node along `path` that exists in the document. */
function locate(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

/** Parses YAML text and validates it with a zod schema, reporting every problem with file:line. */
export function parseYaml<S extends z.ZodType>(text: string, file: string, schema: S): YamlResult<z.output<S>> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        // With prettyErrors off the parser leaves linePos unset; the LineCounter locates the error instead.
        const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, path: '', message: e.message.split('\n')[0] ?? e.message };
      }),
    };
  }
  const parsed = schema.safeParse(doc.toJS());
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => {
      const pos = locate(doc, lc, i.path);
      return { file, line: pos.line, col: pos.col, path: formatPath(i.path), message: i.message };
    }),
  };
}

export function loadYamlFile<S extends z.ZodType>(file: string, schema: S, displayName = file): YamlResult<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ file: displayName, line: 1, col: 1, path: '', message: (err as Error).message }] };
  }
  return parseYaml(text, displayName, schema);
}
