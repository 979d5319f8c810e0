import { parse } from 'csv-parse/sync';
import { formatPath } from '../config/yaml-file.js';
import { RiskgateError } from '../lib/errors.js';
import type { Device } from './device-registry.js';
import { DEVICE_CREATE_SCHEMA, deviceFromCreate, type FieldProblem } from './device-input.js';

/** Most rows one import takes (a larger fleet is imported in several files). */
export const MAX_IMPORT_ROWS = 10_000;

/** CSV columns besides `attr.<name>` (one kind-specific attribute each, e.g. `attr.plate`). */
export const CSV_COLUMNS = ['tenant', 'device_id', 'kind', 'model', 'region', 'site', 'location', 'heartbeat_s', 'installed_at', 'installer', 'lat', 'lon'] as const;
const NUMERIC_COLUMNS = new Set(['heartbeat_s', 'lat', 'lon']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** One row of an import file: its number as a person counts it, and the fields as JSON-like values. */
export interface ImportRow {
  /** CSV: the file line the record starts on (header = 1); JSON: the 1-based position in `devices`. */
  row: number;
  fields: Record<string, unknown>;
  /** Problems found while turning the cells into values (a number column holding text). */
  problems: FieldProblem[];
}

/** A rejected row: one entry per problem. */
export interface RejectedRow {
  row: number;
  device_id?: string;
  field: string;
  message: string;
}

/**
 * Reads a CSV import: a header row of column names, then one device per record; empty cells are left out (the default
 * applies). Quoting follows RFC 4180 (csv-parse). A quoting error makes the whole file unreadable → RG_ERR_API_BAD_REQUEST
 * naming the line: after a broken quote, no later row can be trusted to be the one the author meant.
 */
export function readCsvRows(text: string): ImportRow[] {
  const bytes = Buffer.from(text, 'utf8');
  const lineAt = lineCounter(bytes);
  let records: { record: string[]; info: { bytes: number } }[];
  try {
    // Blank lines come through as records (and are dropped below) so that `info.bytes` of one record is where the next
    // starts; csv-parse's own `info.lines` counts a CRLF inside a quoted cell twice.
    records = parse(bytes, { bom: true, info: true, relax_column_count: true, trim: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as { message?: string; bytes?: number; lines?: number };
    const line = e.bytes === undefined ? e.lines : lineAt(e.bytes);
    throw new RiskgateError('RG_ERR_API_BAD_REQUEST', `CSV line ${line ?? '?'}: ${e.message ?? 'unreadable'}`, [{ field: 'body', rule: 'csv', message: e.message, line }]);
  }
  const numbered: { row: number; record: string[] }[] = [];
  let start = 0;
  for (const { record, info } of records) {
    if (record.some((cell) => cell !== '')) numbered.push({ row: lineAt(start), record });
    start = info.bytes;
  }
  const [header, ...body] = numbered;
  if (!header) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', 'CSV is empty: expected a header row (tenant,device_id,kind,…) and one row per device');
  const columns = header.record.map((c) => c.toLowerCase());
  const headerProblems = columns.flatMap((c, i) => {
    if (c === '') return [`column ${i + 1} has no name`];
    if (!(CSV_COLUMNS as readonly string[]).includes(c) && !/^attr\.[a-z][a-z0-9_]{0,63}$/.test(c)) return [`unknown column '${c}' (columns: ${CSV_COLUMNS.join(', ')}, attr.<name>)`];
    if (columns.indexOf(c) !== i) return [`column '${c}' appears twice`];
    return [];
  });
  for (const need of ['device_id', 'kind']) if (!columns.includes(need)) headerProblems.push(`missing column '${need}'`);
  if (headerProblems.length > 0) {
    throw new RiskgateError('RG_ERR_API_BAD_REQUEST', `CSV header (line ${header.row}): ${headerProblems.join('; ')}`, headerProblems.map((message) => ({ field: 'body.header', rule: 'csv_header', message })));
  }
  if (body.length > MAX_IMPORT_ROWS) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', `an import takes at most ${MAX_IMPORT_ROWS} rows (this file has ${body.length}); split it`);
  return body.map(({ row, record }) => {
    const fields: Record<string, unknown> = {};
    const attrs: Record<string, string> = {};
    const problems: FieldProblem[] = [];
    if (record.length > columns.length) problems.push({ field: 'row', message: `has ${record.length} cells, the header ${columns.length}` });
    columns.forEach((col, i) => {
      const cell = record[i];
      if (cell === undefined || cell === '') return;
      if (col.startsWith('attr.')) attrs[col.slice(5)] = cell;
      else if (!NUMERIC_COLUMNS.has(col)) fields[col] = cell;
      else if (NUMBER.test(cell)) fields[col] = Number(cell);
      else problems.push({ field: col, message: `must be a number, got '${cell}'` });
    });
    if (Object.keys(attrs).length > 0) fields.attrs = attrs;
    return { row, fields, problems };
  });
}

/** Line number (1-based) at a byte offset; offsets must be asked in increasing order. CRLF, LF and CR each end a line. */
function lineCounter(buf: Buffer): (offset: number) => number {
  let pos = 0;
  let line = 1;
  return (offset) => {
    for (; pos < offset && pos < buf.length; pos++) {
      const c = buf[pos];
      if (c === 0x0a || (c === 0x0d && buf[pos + 1] !== 0x0a)) line++;
    }
    return line;
  };
}

/** Reads a JSON import `{ "devices": [ {…}, … ] }`; row n is `devices[n-1]`. */
export function readJsonRows(body: unknown): ImportRow[] {
  const devices = (body as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(devices)) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', 'body.devices: must be an array of devices', [{ field: 'body.devices', rule: 'invalid_type', message: 'must be an array of devices' }]);
  if (devices.length > MAX_IMPORT_ROWS) throw new RiskgateError('RG_ERR_API_BAD_REQUEST', `an import takes at most ${MAX_IMPORT_ROWS} rows (this one has ${devices.length}); split it`);
  return devices.map((d, i) =>
    typeof d === 'object' && d !== null && !Array.isArray(d) ? { row: i + 1, fields: d as Record<string, unknown>, problems: [] } : { row: i + 1, fields: {}, problems: [{ field: 'row', message: 'must be an object (one device)' }] },
  );
}

/** What the import checks beyond the row schema, per row, given the parsed device. */
export interface ImportChecks {
  /** Filled in when the row leaves `tenant` out (an enterprise token imports for its own tenant). */
  defaultTenant?: string;
  /** Problems of a schema-valid device: scope, references, conflicts; may return it amended (default region). */
  check(device: Device): { device: Device; problems: FieldProblem[] };
}

/** The outcome of validating an import: the devices to write, and every problem by row. */
export interface ImportPlan {
  valid: Device[];
  rejected: RejectedRow[];
}

/** Validates each row on its own; a device id given twice is rejected on its later rows. */
export function planImport(rows: readonly ImportRow[], checks: ImportChecks): ImportPlan {
  const valid: Device[] = [];
  const rejected: RejectedRow[] = [];
  const firstRow = new Map<string, number>();
  for (const r of rows) {
    const fields = checks.defaultTenant !== undefined && r.fields.tenant === undefined ? { ...r.fields, tenant: checks.defaultTenant } : r.fields;
    const deviceId = typeof fields.device_id === 'string' ? fields.device_id : undefined;
    const reject = (p: FieldProblem): void => void rejected.push({ row: r.row, ...(deviceId !== undefined && { device_id: deviceId }), field: p.field, message: p.message });
    r.problems.forEach(reject);
    if (r.problems.some((p) => p.field === 'row')) continue;
    const parsed = DEVICE_CREATE_SCHEMA.safeParse(fields);
    if (!parsed.success) {
      // A number column already reported as text would only repeat itself here.
      for (const i of parsed.error.issues) {
        const field = i.code === 'unrecognized_keys' ? i.keys.join(', ') : formatPath(i.path) || 'row';
        if (!r.problems.some((p) => p.field === String(i.path[0]))) reject({ field, message: i.message });
      }
      continue;
    }
    if (r.problems.length > 0) continue;
    const { device, problems } = checks.check(deviceFromCreate(parsed.data));
    const k = `${device.tenant}\u0000${device.deviceId}`;
    const dup = firstRow.get(k);
    if (dup !== undefined) problems.push({ field: 'device_id', message: `duplicate of row ${dup} (${device.tenant}/${device.deviceId})` });
    else firstRow.set(k, r.row);
    if (problems.length > 0) problems.forEach(reject);
    else valid.push(device);
  }
  return { valid, rejected };
}
