import type { CaptureDevice, CaptureEvent } from '../capture-format.js';
import type { ImportReport } from './import-report.js';
import type { SourceTable } from './source-table.js';

/** What a recording's licence asks of anyone who redistributes a derived copy. */
export interface DatasetLicence {
  /** SPDX-style name: `CC-BY-4.0`, `MIT`. */
  licence: string;
  /** The attribution text the data README requires, verbatim. */
  attribution: string;
  /** Upstream repository and commit the copy was taken from. */
  upstream: string;
  /**
   * Licence text that must travel with derived copies: the file beside the source and the name it gets beside the
   * capture. Absent for CC BY 4.0, which is satisfied by the attribution and the licence URI.
   */
  licenceFile?: { sourceName: string; targetName: string };
}

/** Rows to keep, by source time (epoch ms, inclusive bounds), and thinning. */
export interface ImportWindow {
  fromMs?: number;
  toMs?: number;
  /** Keep every Nth time step (1 = all). */
  every: number;
}

/** One message a mapper produced, before offsets are computed. */
export interface MappedMessage {
  /** Device time, epoch ms (the payload's `ts`). */
  ts: number;
  topic: string;
  payload: Record<string, unknown>;
}

/** What a mapper returns: devices, messages in any order, and the recording's events. */
export interface MapperOutput {
  devices: CaptureDevice[];
  messages: MappedMessage[];
  /** Source time of the capture's `t = 0`; default the earliest message. */
  startTs?: number;
  /** Events at source time, epoch ms (converted to offsets by the importer). */
  events?: { ts: number; label: string; tsEnd?: number }[];
  notes?: string[];
}

/** Inputs of a mapper run. */
export interface MapperContext {
  table: SourceTable;
  report: ImportReport;
  window: ImportWindow;
  /** Reads a file beside the source (the fire's events file); undefined when it does not exist. */
  sibling(name: string): string | undefined;
}

/** Maps one kind of real recording onto riskgate device kinds. One mapper per recording (docs/captures.md). */
export interface CaptureMapper {
  /** `--mapper` name. */
  name: string;
  /** What it maps onto what, one line (CLI help). */
  summary: string;
  delimiter: ',' | ';';
  /** IANA zone the source's wall-clock times are read in; `none` when the source has no wall clock. */
  zone: string;
  dataset: DatasetLicence;
  /** True when the header (split by `delimiter`) is this recording's. */
  matches(header: readonly string[]): boolean;
  map(ctx: MapperContext): MapperOutput;
}

export type { CaptureEvent };

/** True when a source time passes the window (inclusive bounds). */
export function inWindow(window: ImportWindow, ts: number): boolean {
  return (window.fromMs === undefined || ts >= window.fromMs) && (window.toMs === undefined || ts <= window.toMs);
}

/**
 * Applies the window and `every` to a stream of source times: `keep(ts)` is true for rows inside the window whose
 * time step (distinct `ts`, in order) is every Nth one. Rows of one step (six stations in one hour) stay together.
 */
export class TimeFilter {
  private step = -1;
  private lastTs: number | undefined;

  constructor(
    private readonly window: ImportWindow,
    private readonly report: { exclude(reason: string): void },
  ) {}

  keep(ts: number): boolean {
    if (!inWindow(this.window, ts)) {
      this.report.exclude('outside --from/--to');
      return false;
    }
    if (ts !== this.lastTs) {
      this.lastTs = ts;
      this.step++;
    }
    if (this.step % this.window.every !== 0) {
      this.report.exclude(`thinned (--every ${this.window.every})`);
      return false;
    }
    return true;
  }
}
