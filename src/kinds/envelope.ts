// The wire envelope of ARCHITECTURE.md "Wire contract (MQTT)": `{ ts, seq?, data }`, or `{ readings: [...] }` from a
// device that buffered while offline. Hand-written rather than zod: it runs once per message on the hot path and
// must report one precise error per bad entry. `data` itself is checked by validate.ts, once the kind is known.

/** One reading out of an envelope, before its `data` is validated against the kind. */
export interface EnvelopeEntry {
  /** Device time, epoch ms (a zone-less device time is Asia/Shanghai). Not yet checked against the accepted window. */
  ts: number;
  /** Device sequence number, when sent. */
  seq?: number;
  /** The raw `data` object; validated later by `validateData`. */
  data: unknown;
  /** Position in `readings[]`; absent for a single-reading envelope. */
  index?: number;
}

/** Why a payload (or one entry of a batch) was rejected. */
export interface FieldError {
  /** Where in the payload: `ts`, `data.concentration_lel`, `readings[3].ts`; `''` for the payload as a whole. */
  path: string;
  /** Machine-readable rule: a zod issue code (`too_big`, `invalid_type`, `unrecognized_keys`, …) or ours (`invalid_timestamp`, `empty_object`). */
  rule: string;
  /** Human message naming the field and the limit, prefixed with `path`. */
  message: string;
}

/**
 * A single-reading envelope yields one entry or `ok: false`. A batch yields `ok: true` with its good entries and
 * one reject per bad entry (so `rejects.length` counts rejected readings); `ok: false` only when the batch itself
 * is malformed.
 */
export type EnvelopeResult = { ok: true; entries: EnvelopeEntry[]; rejects: FieldError[] } | { ok: false; error: FieldError };

/** Largest `readings[]` accepted in one message. */
export const MAX_BATCH_READINGS = 1000;

const SINGLE_KEYS = new Set(['ts', 'seq', 'data']);
/** Latest epoch ms a JavaScript Date can represent (ECMA-262 §21.4.1.1). */
const MAX_EPOCH_MS = 8.64e15;
/** Beijing time: a zone-less device time is GMT+8, no DST (domain.md §0, JT/T 808 §5.3 time field). */
const DEVICE_ZONE_OFFSET_MS = 8 * 3_600_000;
// Calendar date, `T` or space, time with optional fraction, optional zone (`Z`, `+08:00`, `+0800`, `+08`).
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** Parses a decoded JSON payload into envelope entries (see {@link EnvelopeResult}). */
export function parseEnvelope(json: unknown): EnvelopeResult {
  if (!isPlainObject(json)) {
    return { ok: false, error: { path: '', rule: 'invalid_type', message: `payload: must be a JSON object, got ${describe(json)}` } };
  }
  if (!('readings' in json)) {
    const entry = parseEntry(json, '');
    return 'rule' in entry ? { ok: false, error: entry } : { ok: true, entries: [entry], rejects: [] };
  }
  for (const key in json) {
    if (key !== 'readings') return { ok: false, error: unknownKey(key, 'a batch envelope has only `readings`') };
  }
  const readings = json.readings;
  if (!Array.isArray(readings)) {
    return { ok: false, error: { path: 'readings', rule: 'invalid_type', message: `readings: must be an array, got ${describe(readings)}` } };
  }
  if (readings.length === 0) {
    return { ok: false, error: { path: 'readings', rule: 'too_small', message: 'readings: must have at least 1 item, got 0' } };
  }
  if (readings.length > MAX_BATCH_READINGS) {
    return {
      ok: false,
      error: { path: 'readings', rule: 'too_big', message: `readings: must have at most ${MAX_BATCH_READINGS} items, got ${readings.length}` },
    };
  }
  const entries: EnvelopeEntry[] = [];
  const rejects: FieldError[] = [];
  for (let i = 0; i < readings.length; i++) {
    const prefix = `readings[${i}]`;
    const item: unknown = readings[i];
    if (!isPlainObject(item)) {
      rejects.push({ path: prefix, rule: 'invalid_type', message: `${prefix}: must be an object, got ${describe(item)}` });
      continue;
    }
    const entry = parseEntry(item, `${prefix}.`);
    if ('rule' in entry) rejects.push(entry);
    else {
      entry.index = i;
      entries.push(entry);
    }
  }
  return { ok: true, entries, rejects };
}

/** One `{ ts, seq?, data }`; returns the first problem found (unknown key, ts, seq, data, in that order). */
function parseEntry(obj: Record<string, unknown>, prefix: string): EnvelopeEntry | FieldError {
  for (const key in obj) {
    if (!SINGLE_KEYS.has(key)) return unknownKey(`${prefix}${key}`, 'a reading has only `ts`, `seq` and `data`');
  }
  const rawTs = obj.ts;
  if (rawTs === undefined) {
    return { path: `${prefix}ts`, rule: 'invalid_type', message: `${prefix}ts: required (ISO-8601 string or epoch ms)` };
  }
  const ts = typeof rawTs === 'string' || typeof rawTs === 'number' ? parseDeviceTime(rawTs) : undefined;
  if (ts === undefined) {
    return {
      path: `${prefix}ts`,
      rule: 'invalid_timestamp',
      message: `${prefix}ts: must be an ISO-8601 time (zone-less = Beijing time) or epoch ms, got ${describe(rawTs)}`,
    };
  }
  const seq = obj.seq;
  if (seq !== undefined) {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) {
      return { path: `${prefix}seq`, rule: 'invalid_type', message: `${prefix}seq: must be an integer, got ${describe(seq)}` };
    }
    if (seq < 0) return { path: `${prefix}seq`, rule: 'too_small', message: `${prefix}seq: must be ≥ 0, got ${seq}` };
  }
  const data = obj.data;
  if (!isPlainObject(data)) {
    const got = data === undefined ? 'nothing' : describe(data);
    return { path: `${prefix}data`, rule: 'invalid_type', message: `${prefix}data: must be an object of the kind's fields, got ${got}` };
  }
  return seq === undefined ? { ts, data } : { ts, seq, data };
}

/**
 * Device time → epoch ms, or `undefined` when it is not a time. Epoch ms (integer ≥ 0) is taken as is; ISO-8601 with
 * a zone (`Z`, `+08:00`) as given; a zone-less time (`2025-03-15T14:30:05`, `2025-03-15 14:30:05`, optional fraction)
 * is Beijing time, GMT+8 (domain.md §0). The accepted time window is the pipeline's business, not checked here.
 */
export function parseDeviceTime(value: string | number): number | undefined {
  // ECMA-262 §21.4.1.1: a Date holds at most 8.64e15 ms; a later epoch is no time (and made toISOString() throw
  // in the pipeline's window check, which crashed the MQTT ingest on a single message).
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= MAX_EPOCH_MS ? value : undefined;
  const m = ISO_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMs = DEVICE_ZONE_OFFSET_MS;
  if (z !== undefined) offsetMs = 0;
  else if (sign !== undefined) {
    const offH = Number(oh);
    const offM = om === undefined ? 0 : Number(om);
    if (offH > 23 || offM > 59) return undefined;
    offsetMs = (sign === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  }
  // Fraction truncated to milliseconds (the store's resolution).
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  date.setUTCFullYear(year); // Date.UTC maps years 0–99 to 1900–1999
  const epochMs = date.getTime() - offsetMs;
  return Number.isFinite(epochMs) ? epochMs : undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function unknownKey(path: string, why: string): FieldError {
  return { path, rule: 'unrecognized_keys', message: `${path}: unknown key (${why})` };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}
