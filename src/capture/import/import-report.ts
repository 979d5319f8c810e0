/** How many example line numbers a finding keeps. */
export const MAX_EXAMPLE_LINES = 10;

/** One kind of finding in a source file: what it is, how many, what the importer did, where to look. */
export interface Finding {
  /** What is wrong (or was changed), in one sentence. */
  description: string;
  /** What the importer did: `skipped` (row or value left out), `kept, …` (marked), `clamped …`, `noted`. */
  handling: string;
  count: number;
  /** 1-based line numbers in the source file (the header is line 1) of the first examples. */
  lines: number[];
}

/** What an import found and did, written beside the capture as `<name>.report.json`. */
export interface ImportReportData {
  source: string;
  mapper: string;
  /** Data rows read (header excluded). */
  rows: number;
  /** Rows that produced at least one message. */
  rows_used: number;
  /** Messages written to the capture. */
  messages: number;
  /** Real defects of the recording: garbage dates, swapped columns, gaps, missing values. */
  defects: Record<string, Finding>;
  /** Values changed to fit a device's range (not defects of the recording), e.g. temperatures above a detector's range. */
  adjustments: Record<string, Finding>;
  /** Rows left out on purpose: outside --from/--to, or thinned by --every. */
  excluded: Record<string, number>;
  notes: string[];
}

/** Collects findings while a mapper runs. Never throws: a finding is data, not an error. */
export class ImportReport {
  readonly data: ImportReportData;

  constructor(source: string, mapper: string) {
    this.data = { source, mapper, rows: 0, rows_used: 0, messages: 0, defects: {}, adjustments: {}, excluded: {}, notes: [] };
  }

  /** Records one occurrence of a defect of the recording at a source line. */
  defect(code: string, line: number, description: string, handling: string): void {
    add(this.data.defects, code, line, description, handling);
  }

  /** Records one value changed to fit the target device (clamping), at a source line. */
  adjust(code: string, line: number, description: string, handling: string): void {
    add(this.data.adjustments, code, line, description, handling);
  }

  exclude(reason: string): void {
    this.data.excluded[reason] = (this.data.excluded[reason] ?? 0) + 1;
  }

  note(text: string): void {
    this.data.notes.push(text);
  }

  /** Total count of one defect code (0 when never seen). */
  defectCount(code: string): number {
    return this.data.defects[code]?.count ?? 0;
  }
}

function add(into: Record<string, Finding>, code: string, line: number, description: string, handling: string): void {
  let f = into[code];
  if (!f) {
    f = { description, handling, count: 0, lines: [] };
    into[code] = f;
  }
  f.count++;
  if (f.lines.length < MAX_EXAMPLE_LINES) f.lines.push(line);
}

/** Human-readable summary, one finding per line. */
export function formatReport(r: ImportReportData): string {
  const out = [`${r.source} (${r.mapper}): ${r.rows} rows read, ${r.rows_used} used, ${r.messages} messages`];
  const section = (title: string, findings: Record<string, Finding>): void => {
    for (const [code, f] of Object.entries(findings)) {
      out.push(`  ${title} ${code}: ${f.count} — ${f.description} → ${f.handling} (lines ${f.lines.join(', ')}${f.count > f.lines.length ? ', …' : ''})`);
    }
  };
  section('defect', r.defects);
  section('adjusted', r.adjustments);
  for (const [reason, n] of Object.entries(r.excluded)) out.push(`  excluded ${reason}: ${n} rows`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  return `${out.join('\n')}\n`;
}
