import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

// A tolerant reader for the recordings' delimited text. Deliberately not a full RFC 4180 parser: none of the
// sources quotes a delimiter, and a parser that gives up on the whole file at one bad quote would turn one garbage
// row into a crash. Here every physical line is one row, reported with its line number.

/** One data row: its 1-based line number in the file (the header is line 1) and its cells, unquoted. */
export interface SourceRow {
  line: number;
  cells: string[];
}

/** A delimited file split into header and rows. */
export interface SourceTable {
  path: string;
  fileName: string;
  delimiter: string;
  header: string[];
  rows: SourceRow[];
}

/** Splits a line; cells wrapped in double quotes lose them (`"ENE"` → `ENE`, `""` inside → `"`). */
export function splitLine(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((cell) => {
    const c = cell.trim();
    return c.length >= 2 && c.startsWith('"') && c.endsWith('"') ? c.slice(1, -1).replaceAll('""', '"') : c;
  });
}

/** Reads `path` (UTF-8, optional BOM, LF or CRLF); blank lines are dropped but keep the numbering. */
export function readSourceTable(path: string, delimiter: string, text = readFileSync(path, 'utf8')): SourceTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitLine(lines[0] ?? '', delimiter);
  const rows: SourceRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    rows.push({ line: i + 1, cells: splitLine(line, delimiter) });
  }
  return { path, fileName: basename(path), delimiter, header, rows };
}

/** The first line of a file, for detecting which mapper reads it. */
export function firstLine(path: string): string {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const end = text.search(/\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}

/**
 * A finite number from a cell; undefined for empty, `NA`, `NaN`, `inf` or anything not wholly numeric
 * (`Number('')` is 0 and `parseFloat('12abc')` is 12: neither is accepted).
 */
export function numberCell(cell: string | undefined): number | undefined {
  if (cell === undefined) return undefined;
  const c = cell.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(c)) return undefined;
  const v = Number(c);
  return Number.isFinite(v) ? v : undefined;
}

/** Column index by exact header name, or -1. */
export function columnIndex(header: readonly string[], name: string): number {
  return header.indexOf(name);
}

/** Rounds to `decimals` places (keeps captures small: float noise such as 0.026587799999999998 is not data). */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
