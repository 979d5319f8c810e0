import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CAPTURE_FORMAT, writeCapture, type Capture, type CaptureEvent, type CaptureMessage } from '../capture-format.js';
import { beijingMapper } from './beijing-prsa.js';
import { fsriEssMapper } from './fsri-ess.js';
import { fsriFireMapper } from './fsri-fire.js';
import { ImportReport, type ImportReportData } from './import-report.js';
import { localToEpochMs, parseLocalIso } from './local-time.js';
import type { CaptureMapper, ImportWindow } from './mapper.js';
import { firstLine, readSourceTable, splitLine } from './source-table.js';
import { skabMapper } from './skab.js';
import { twizyMapper } from './twizy.js';

/** Every mapper, one per real recording (data README §1–§5). */
export const MAPPERS: readonly CaptureMapper[] = [twizyMapper, fsriFireMapper, fsriEssMapper, skabMapper, beijingMapper];

/** The gateway's default INGEST_MAX_AGE_MS: a capture spanning more cannot be replayed at max speed without rejects. */
const DEFAULT_MAX_AGE_MS = 7 * 86_400_000;

/** Options of one import. */
export interface ImportOptions {
  /** The source file (CSV / semicolon-separated). */
  source: string;
  /** Mapper name; default: detected from the header line. */
  mapper?: string;
  /** Keep rows from this source wall-clock time on (`2015-11-26` or `2015-11-26T08:00`, in the mapper's zone). */
  from?: string;
  /** Keep rows up to and including this source wall-clock time; a date alone means the end of that day. */
  to?: string;
  /** Keep every Nth time step. Default 1 (all). */
  every?: number;
}

/** A built capture and what the import found. */
export interface ImportResult {
  capture: Capture;
  report: ImportReportData;
  mapper: CaptureMapper;
}

/** The mapper whose header matches the file's first line, trying each mapper's delimiter. */
export function detectMapper(path: string): CaptureMapper | undefined {
  const line = firstLine(path);
  return MAPPERS.find((m) => m.matches(splitLine(line, m.delimiter)));
}

/** Maps a source file to a capture in memory; never throws on bad rows (they are in the report). */
export function importRecording(opts: ImportOptions): ImportResult {
  const mapper = opts.mapper ? MAPPERS.find((m) => m.name === opts.mapper) : detectMapper(opts.source);
  if (!mapper) {
    throw new Error(
      opts.mapper
        ? `unknown mapper ${JSON.stringify(opts.mapper)} (one of ${MAPPERS.map((m) => m.name).join(', ')})`
        : `no mapper recognises the header of ${opts.source} (mappers: ${MAPPERS.map((m) => m.name).join(', ')}; or give --mapper)`,
    );
  }
  const table = readSourceTable(opts.source, mapper.delimiter);
  const sourceName = `${basename(dirname(opts.source))}/${table.fileName}`;
  const report = new ImportReport(sourceName, mapper.name);
  const window: ImportWindow = { fromMs: bound(opts.from, mapper, '--from'), toMs: bound(opts.to, mapper, '--to'), every: opts.every ?? 1 };
  if (!Number.isInteger(window.every) || window.every < 1) throw new Error(`--every must be a whole number ≥ 1, got ${opts.every}`);
  const out = mapper.map({
    table,
    report,
    window,
    sibling: (name) => {
      const p = join(dirname(opts.source), name);
      return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    },
  });

  // Stable sort by device time: rows of one instant keep the source's column / station order.
  const sorted = out.messages.map((m, i) => ({ m, i })).sort((a, b) => a.m.ts - b.m.ts || a.i - b.i);
  const firstTs = sorted[0]?.m.ts ?? out.startTs ?? 0;
  const startTs = Math.min(out.startTs ?? firstTs, firstTs);
  const endTs = sorted.at(-1)?.m.ts ?? startTs;
  const messages: CaptureMessage[] = sorted.map(({ m }) => ({ t: m.ts - startTs, topic: m.topic, payload: m.payload }));
  const events: CaptureEvent[] = (out.events ?? [])
    .filter((e) => e.ts >= startTs && e.ts <= endTs)
    .map((e) => ({ t: e.ts - startTs, label: e.label, ...(e.tsEnd === undefined || e.tsEnd === e.ts ? {} : { t_end: e.tsEnd - startTs }) }));

  for (const n of out.notes ?? []) report.note(n);
  if (window.every > 1) report.note(`subsampled: every ${window.every}th time step kept (--every ${window.every}).`);
  if (endTs - startTs > DEFAULT_MAX_AGE_MS) {
    report.note(`spans ${((endTs - startTs) / 86_400_000).toFixed(1)} days, more than the gateway's default INGEST_MAX_AGE_MS (7 days): a --rebase-time replay at max speed has its oldest readings rejected; narrow it with --from/--to.`);
  }
  report.data.messages = messages.length;
  const zone = mapper.zone === 'none' ? 'none (no wall clock in the source)' : mapper.zone;
  const capture: Capture = {
    header: {
      format: CAPTURE_FORMAT,
      source: `${sourceName} — ${mapper.dataset.upstream}`,
      licence: mapper.dataset.licence,
      attribution: mapper.dataset.attribution,
      devices: out.devices,
      created_by: `riskgate import --mapper ${mapper.name}${opts.from ? ` --from ${opts.from}` : ''}${opts.to ? ` --to ${opts.to}` : ''}${window.every > 1 ? ` --every ${window.every}` : ''}`,
      start_ts: startTs,
      source_zone: zone,
      events,
      notes: report.data.notes,
      import: {
        rows: report.data.rows,
        rows_used: report.data.rows_used,
        messages: messages.length,
        defects: Object.fromEntries(Object.entries(report.data.defects).map(([k, f]) => [k, f.count])),
        adjustments: Object.fromEntries(Object.entries(report.data.adjustments).map(([k, f]) => [k, f.count])),
      },
    },
    messages,
  };
  return { capture, report: report.data, mapper };
}

/** What {@link importToFile} wrote. */
export interface ImportFiles extends ImportResult {
  /** Size of the gzipped capture, bytes. */
  bytes: number;
  reportPath: string;
  /** The upstream licence text copied beside the capture, when the licence requires it to travel. */
  licencePath?: string;
}

/**
 * Imports and writes `out` (the capture), `<out without .jsonl.gz>.report.json` (the import report) and, for
 * licences that must travel with copies, the upstream licence text beside them.
 */
export function importToFile(opts: ImportOptions & { out: string; reportPath?: string }): ImportFiles {
  const result = importRecording(opts);
  const bytes = writeCapture(opts.out, result.capture);
  const reportPath = opts.reportPath ?? `${opts.out.replace(/\.jsonl(\.gz)?$/, '')}.report.json`;
  writeFileSync(reportPath, `${JSON.stringify(result.report, null, 2)}\n`);
  const lf = result.mapper.dataset.licenceFile;
  let licencePath: string | undefined;
  if (lf) {
    const from = join(dirname(opts.source), lf.sourceName);
    if (existsSync(from)) {
      licencePath = join(dirname(opts.out), lf.targetName);
      rmSync(licencePath, { force: true });
      copyFileSync(from, licencePath);
      chmodSync(licencePath, 0o644); // the shared data folder is read-only; the copy is the repository's

    } else {
      result.report.notes.push(`licence text ${lf.sourceName} not found beside the source: copy it beside the capture by hand`);
    }
  }
  return { ...result, bytes, reportPath, licencePath };
}

function bound(text: string | undefined, mapper: CaptureMapper, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const t = parseLocalIso(text);
  const ms = t && localToEpochMs(t, mapper.zone === 'none' ? 'UTC' : mapper.zone);
  if (ms === undefined) throw new Error(`${flag} must be a date or date-time like 2015-11-26 or 2015-11-26T08:00 (${mapper.zone} wall clock), got ${JSON.stringify(text)}`);
  // `--to 2015-12-01` keeps the whole of that day.
  return flag === '--to' && /^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? ms + 86_399_999 : ms;
}
