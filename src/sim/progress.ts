import { KIND_NAMES } from '../kinds/kind.js';
import type { StatsSnapshot } from './sim-stats.js';

/** What the progress display shows besides the counters. */
export interface ProgressContext {
  /** First line, e.g. `city · 20000 devices · seed 1 · mqtt://127.0.0.1:1883`. */
  title: string;
  /** Target rate, msg/s (the fleet's natural rate when --rate is not given). */
  targetRate: number;
  /** Planned length of the run, ms; undefined = until interrupted. */
  durationMs?: number;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const rate = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

function clockText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  return `${hh}:${mm}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The progress lines for one refresh: totals and the rate over the last interval (`prev` → `now`), then per kind.
 * Pure, so it is tested without a terminal.
 */
export function renderProgress(ctx: ProgressContext, startMs: number, prev: StatsSnapshot, now: StatsSnapshot): string[] {
  const dtS = Math.max(0.001, (now.atMs - prev.atMs) / 1000);
  const elapsed = now.atMs - startMs;
  const c = now.connections;
  const lines = [
    `${ctx.title}   ${clockText(elapsed)}${ctx.durationMs === undefined ? '' : ` / ${clockText(ctx.durationMs)}`}`,
    `sent ${fmt(now.sent)}   rate ${rate((now.sent - prev.sent) / dtS)} msg/s (target ${rate(ctx.targetRate)})   errors ${fmt(now.errors)}` +
      `${now.dropped > 0 ? ` (${fmt(now.dropped)} not connected)` : ''}   in flight ${fmt(now.inFlight)}   lag ${(now.lagMs / 1000).toFixed(1)} s` +
      `   connections ${fmt(c.connected)}/${fmt(c.wanted)}${c.failed > 0 ? ` (${fmt(c.failed)} failed)` : ''}`,
    `  ${KIND_NAMES.map((k) => {
      const p = now.perKind[k];
      const r = (p.sent - prev.perKind[k].sent) / dtS;
      return `${k} ${fmt(p.sent)} (${rate(r)}/s${p.errors > 0 ? `, ${fmt(p.errors)} err` : ''})`;
    }).join(' · ')}`,
  ];
  if (now.suppressed > 0) lines[2] += `   suppressed by scenario ${fmt(now.suppressed)}`;
  if (now.lastError && now.errors + c.failed > 0) lines.push(`  last error: ${now.lastError}`);
  return lines;
}

export interface ProgressDisplayOptions {
  ctx: ProgressContext;
  snapshot: () => StatsSnapshot;
  write: (text: string) => void;
  /** Redraw in place (a terminal); otherwise one line block every `plainEveryMs`. */
  isTTY: boolean;
  /** Refresh interval, ms. Default 1000. */
  intervalMs?: number;
  /** Without a terminal, print every this many ms. Default 10 000. */
  plainEveryMs?: number;
  /** Called before each refresh (e.g. to count live connections). */
  beforeRender?: () => void;
}

/** Redraws the progress lines about once a second on a terminal (ANSI cursor up + clear), or logs them now and then. */
export class ProgressDisplay {
  private readonly o: ProgressDisplayOptions;
  private timer?: NodeJS.Timeout;
  private startMs = 0;
  private prev?: StatsSnapshot;
  private lastPlainMs = 0;
  private drawnLines = 0;

  constructor(o: ProgressDisplayOptions) {
    this.o = o;
  }

  start(): void {
    this.prev = this.o.snapshot();
    this.startMs = this.prev.atMs;
    this.lastPlainMs = this.startMs;
    this.timer = setInterval(() => this.refresh(false), this.o.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Draws once more (the final state) and stops. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.refresh(true);
  }

  private refresh(final: boolean): void {
    this.o.beforeRender?.();
    const now = this.o.snapshot();
    const prev = this.prev ?? now;
    const lines = renderProgress(this.o.ctx, this.startMs, final ? { ...prev, atMs: this.startMs, sent: 0, perKind: zeroKinds(prev) } : prev, now);
    this.prev = now;
    if (this.o.isTTY) {
      // Move to the first line drawn last time and clear to the end of the screen.
      const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : '';
      this.o.write(`${up}${lines.join('\n')}\n`);
      this.drawnLines = lines.length;
    } else if (final || now.atMs - this.lastPlainMs >= (this.o.plainEveryMs ?? 10_000)) {
      this.lastPlainMs = now.atMs;
      this.o.write(`${lines.join('\n')}\n`);
    }
  }
}

/** Per-kind counts of zero: the final display shows average rates over the whole run. */
function zeroKinds(s: StatsSnapshot): StatsSnapshot['perKind'] {
  return Object.fromEntries(Object.keys(s.perKind).map((k) => [k, { sent: 0, errors: 0 }])) as StatsSnapshot['perKind'];
}
