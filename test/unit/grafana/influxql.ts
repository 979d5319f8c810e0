// A checker for the InfluxQL the Grafana dashboards use: tokenises a query (Grafana's `$variables` allowed), finds its
// measurement and every identifier by clause, and checks each against what the gateway stores. It accepts only the
// subset the dashboards need (SELECT … FROM one measurement, SHOW TAG VALUES) and requires every identifier to be
// double-quoted, so that no name can hide from the check as a bare word.
import type { StoredMeasurement } from './stored-schema.js';

type TokenType = 'ident' | 'string' | 'regex' | 'number' | 'var' | 'word' | 'punct';
interface Token {
  type: TokenType;
  value: string;
}

const KEYWORDS = new Set(['SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'GROUP', 'BY', 'ORDER', 'DESC', 'ASC', 'LIMIT', 'SLIMIT', 'OFFSET', 'AS', 'SHOW', 'TAG', 'VALUES', 'WITH', 'KEY', 'TRUE', 'FALSE', 'TIME', 'FILL', 'NONE', 'NULL', 'PREVIOUS', 'LINEAR', 'NOW', 'TZ']);
/** Aggregates and selectors that work on any field type. */
const ANY_TYPE_FUNCTIONS = new Set(['count', 'last', 'first', 'distinct', 'mode']);
/** Functions InfluxDB 1.x refuses on boolean fields. */
const NUMERIC_FUNCTIONS = new Set(['mean', 'median', 'sum', 'spread', 'stddev', 'max', 'min', 'integral', 'derivative', 'non_negative_derivative', 'difference', 'percentile']);

export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const prev = (): Token | undefined => tokens[tokens.length - 1];
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const read = (end: string, type: TokenType): void => {
      let j = i + 1;
      while (j < query.length && query[j] !== end) j += query[j] === '\\' ? 2 : 1;
      if (j >= query.length) throw new Error(`unterminated ${type} at ${i}: ${query}`);
      tokens.push({ type, value: query.slice(i + 1, j) });
      i = j + 1;
    };
    if (c === '"') read('"', 'ident');
    else if (c === "'") read("'", 'string');
    else if (c === '/' && (prev()?.value === '=~' || prev()?.value === '!~')) read('/', 'regex');
    else if (c === '$') {
      const m = /^\$\{?(\w+)\}?/.exec(query.slice(i));
      if (!m) throw new Error(`bad variable at ${i}: ${query}`);
      tokens.push({ type: 'var', value: m[1] as string });
      i += m[0].length;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(query[i + 1] ?? '') && prev()?.type === 'punct')) {
      const m = /^-?[0-9]+(\.[0-9]+)?[a-z]*/.exec(query.slice(i)) as RegExpExecArray;
      tokens.push({ type: 'number', value: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_]\w*/.exec(query.slice(i)) as RegExpExecArray;
      tokens.push({ type: 'word', value: m[0] });
      i += m[0].length;
    } else {
      const m = /^(=~|!~|>=|<=|!=|<>|::|[=<>(),*;+\-/])/.exec(query.slice(i));
      if (!m) throw new Error(`unexpected character ${JSON.stringify(c)} at ${i}: ${query}`);
      tokens.push({ type: 'punct', value: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** What a query reads: its measurement, and each identifier with the clause and way it is used. */
export interface QueryUse {
  measurement: string;
  /** Arguments of functions in SELECT: `{ fn, name }`. */
  aggregated: { fn: string; name: string }[];
  /** Bare columns in SELECT (fields or tags). */
  selected: string[];
  /** Identifiers in WHERE, with what they are compared to. */
  filtered: { name: string; op: string; against: TokenType | 'boolean' }[];
  /** GROUP BY identifiers (besides time()). */
  grouped: string[];
  /** SHOW TAG VALUES … WITH KEY = "k". */
  tagKey?: string;
  /** Output column names (aliases, or the names selected). */
  columns: string[];
}

/** Parses a query of the supported subset; throws on anything else (a bare word that is not a keyword, two measurements, …). */
export function parseQuery(query: string): QueryUse {
  const t = tokenize(query);
  let i = 0;
  const peek = (k = 0): Token | undefined => t[i + k];
  const isWord = (tok: Token | undefined, w: string): boolean => tok?.type === 'word' && tok.value.toUpperCase() === w;
  const expectWord = (w: string): void => {
    if (!isWord(peek(), w)) throw new Error(`expected ${w} at token ${i} (${peek()?.value ?? 'end'}): ${query}`);
    i++;
  };
  const expectIdent = (what: string): string => {
    const tok = peek();
    if (tok?.type !== 'ident') throw new Error(`expected a double-quoted ${what} at token ${i} (${tok?.value ?? 'end'}): ${query}`);
    i++;
    return tok.value;
  };
  const use: QueryUse = { measurement: '', aggregated: [], selected: [], filtered: [], grouped: [], columns: [] };

  const parseWhere = (stop: (tok: Token) => boolean): void => {
    while (i < t.length && !stop(t[i] as Token)) {
      const tok = t[i] as Token;
      if (tok.type === 'ident') {
        const op = peek(1);
        const rhs = peek(2);
        if (op?.type !== 'punct' || !rhs) throw new Error(`expected a comparison after "${tok.value}": ${query}`);
        const against = rhs.type === 'word' && ['TRUE', 'FALSE'].includes(rhs.value.toUpperCase()) ? 'boolean' : rhs.type;
        use.filtered.push({ name: tok.value, op: op.value, against });
        i += 3;
        continue;
      }
      if (tok.type === 'word' && !KEYWORDS.has(tok.value.toUpperCase())) throw new Error(`bare word ${tok.value} in WHERE (quote identifiers): ${query}`);
      i++;
    }
  };

  if (isWord(peek(), 'SHOW')) {
    i++;
    expectWord('TAG');
    expectWord('VALUES');
    expectWord('FROM');
    use.measurement = expectIdent('measurement');
    expectWord('WITH');
    expectWord('KEY');
    if (peek()?.value !== '=') throw new Error(`only WITH KEY = "k" is supported: ${query}`);
    i++;
    use.tagKey = expectIdent('tag key');
    use.columns = ['key', 'value'];
    if (isWord(peek(), 'WHERE')) {
      i++;
      parseWhere(() => false);
    }
    if (i < t.length) throw new Error(`unexpected ${peek()?.value} after SHOW TAG VALUES: ${query}`);
    return use;
  }

  expectWord('SELECT');
  while (i < t.length && !isWord(peek(), 'FROM')) {
    const tok = t[i] as Token;
    if (tok.type === 'word' && peek(1)?.value === '(') {
      const fn = tok.value.toLowerCase();
      if (!ANY_TYPE_FUNCTIONS.has(fn) && !NUMERIC_FUNCTIONS.has(fn)) throw new Error(`unsupported function ${tok.value}: ${query}`);
      i += 2;
      const name = expectIdent('field');
      while (peek()?.value === ',') i += 2; // extra numeric arguments (percentile, derivative unit)
      if (peek()?.value !== ')') throw new Error(`expected ) after ${fn}("${name}"): ${query}`);
      i++;
      use.aggregated.push({ fn, name });
      if (isWord(peek(), 'AS')) {
        i++;
        use.columns.push(expectIdent('alias'));
      } else use.columns.push(fn);
    } else if (tok.type === 'ident') {
      i++;
      use.selected.push(tok.value);
      if (isWord(peek(), 'AS')) {
        i++;
        use.columns.push(expectIdent('alias'));
      } else use.columns.push(tok.value);
    } else if (tok.type === 'punct' && tok.value === ',') i++;
    else throw new Error(`unsupported select item ${tok.value} (quote identifiers; no * or expressions): ${query}`);
  }
  expectWord('FROM');
  use.measurement = expectIdent('measurement');
  const clauseStart = (tok: Token): boolean => ['GROUP', 'ORDER', 'LIMIT', 'SLIMIT', 'FILL', 'TZ'].includes(tok.type === 'word' ? tok.value.toUpperCase() : '');
  if (isWord(peek(), 'WHERE')) {
    i++;
    parseWhere(clauseStart);
  }
  while (i < t.length) {
    const tok = t[i] as Token;
    const w = tok.type === 'word' ? tok.value.toUpperCase() : '';
    if (w === 'GROUP') {
      i++;
      expectWord('BY');
      for (;;) {
        if (isWord(peek(), 'TIME') && peek(1)?.value === '(') {
          i += 2;
          while (i < t.length && peek()?.value !== ')') i++;
          i++;
        } else use.grouped.push(expectIdent('GROUP BY tag'));
        if (peek()?.value !== ',') break;
        i++;
      }
    } else if (w === 'FILL' && peek(1)?.value === '(') {
      const arg = peek(2);
      if (!(arg?.type === 'number' || ['NONE', 'NULL', 'PREVIOUS', 'LINEAR'].includes(arg?.value.toUpperCase() ?? ''))) throw new Error(`bad fill(): ${query}`);
      i += 4;
    } else if (w === 'ORDER') {
      i++;
      expectWord('BY');
      expectWord('TIME');
      if (isWord(peek(), 'DESC') || isWord(peek(), 'ASC')) i++;
    } else if (w === 'LIMIT' || w === 'SLIMIT' || w === 'OFFSET') {
      if (peek(1)?.type !== 'number') throw new Error(`${w} needs a number: ${query}`);
      i += 2;
    } else if (w === 'TZ' && peek(1)?.value === '(') {
      i += 4;
    } else throw new Error(`unexpected ${tok.value} at token ${i}: ${query}`);
  }
  return use;
}

/** Every problem of one query against the stored measurements (empty = fine). */
export function checkQuery(query: string, stored: Map<string, StoredMeasurement>): string[] {
  let use: QueryUse;
  try {
    use = parseQuery(query);
  } catch (err) {
    return [(err as Error).message];
  }
  const m = stored.get(use.measurement);
  if (!m) return [`measurement "${use.measurement}" is not written by the gateway (${[...stored.keys()].join(', ')}): ${query}`];
  const problems: string[] = [];
  const where = `${m.name}: ${query}`;
  const isTag = (n: string): boolean => m.tags.has(n);
  const isField = (n: string): boolean => m.fields.has(n);
  if (use.tagKey !== undefined && !isTag(use.tagKey)) problems.push(`WITH KEY "${use.tagKey}" is not a tag of ${where}`);
  for (const { fn, name } of use.aggregated) {
    if (!isField(name)) problems.push(`${fn}("${name}"): not a field of ${where}${isTag(name) ? ' (it is a tag)' : ''}`);
    else if (NUMERIC_FUNCTIONS.has(fn) && m.fields.get(name) === 'boolean') problems.push(`${fn}("${name}"): "${name}" is a boolean field, ${fn} needs numbers: ${where}`);
  }
  for (const name of use.selected) if (!isField(name) && !isTag(name)) problems.push(`"${name}" is neither a field nor a tag of ${where}`);
  if (use.aggregated.length === 0 && use.selected.length > 0 && !use.selected.some(isField)) problems.push(`a raw SELECT needs at least one field (InfluxDB returns nothing for tags alone): ${where}`);
  if (use.aggregated.length > 0 && use.selected.length > 0) problems.push(`mixes aggregates and raw columns: ${where}`);
  for (const f of use.filtered) {
    if (f.name === 'time') continue;
    if (!isField(f.name) && !isTag(f.name)) problems.push(`WHERE "${f.name}" is neither a field nor a tag of ${where}`);
    else if (f.against === 'regex' && !isTag(f.name)) problems.push(`WHERE "${f.name}" ${f.op} /…/ needs a tag: ${where}`);
    else if (f.against === 'boolean' && m.fields.get(f.name) !== 'boolean') problems.push(`WHERE "${f.name}" ${f.op} true/false needs a boolean field: ${where}`);
    else if (f.against === 'number' && m.fields.get(f.name) !== 'number') problems.push(`WHERE "${f.name}" ${f.op} <number> needs a numeric field: ${where}`);
    else if (f.against === 'string' && !isTag(f.name)) problems.push(`WHERE "${f.name}" ${f.op} '…' needs a tag: ${where}`);
  }
  for (const name of use.grouped) if (!isTag(name)) problems.push(`GROUP BY "${name}" is not a tag of ${where}`);
  return problems;
}
