import cliProgress from 'cli-progress';

// The record / replay progress bar (cli-progress). It draws only on a terminal: with output to a file or a pipe
// cli-progress stays silent and the commands print their one-line summary at the end instead.

/** How far back the message rate is measured, ms. */
const RATE_WINDOW_MS = 5_000;

/** Formats a duration as `1:02:03` or `2:03`. */
export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Messages per second over the last {@link RATE_WINDOW_MS}. */
export class RateMeter {
  private readonly samples: { at: number; count: number }[] = [];

  /** Records the running count at time `at` (ms) and returns the current rate, messages/s. */
  sample(at: number, count: number): number {
    this.samples.push({ at, count });
    while (this.samples.length > 2 && (this.samples[0] as { at: number }).at < at - RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0] as { at: number; count: number };
    const span = at - first.at;
    return span > 0 ? ((count - first.count) * 1000) / span : 0;
  }
}

/** A progress bar with rate and ETA on stderr. */
export class TerminalProgress {
  private readonly bar: cliProgress.SingleBar;
  private readonly rate = new RateMeter();
  private started = false;

  constructor(label: string, unit: string, stream: NodeJS.WritableStream = process.stderr) {
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} |{bar}| {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_text}`,
        stream,
        hideCursor: true,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /**
   * Moves the bar to `value` of `total`. `etaMs` overrides the rate-based estimate (a timed replay knows how much
   * recording is left to play; the rate says nothing about that).
   */
  update(value: number, total: number, etaMs?: number): void {
    const rate = this.rate.sample(Date.now(), value);
    const eta = etaMs ?? (rate > 0 ? ((total - value) / rate) * 1000 : Infinity);
    const payload = { rate: rate.toFixed(0), eta_text: formatEta(eta) };
    if (!this.started) {
      this.started = true;
      this.bar.start(total, value, payload);
    } else {
      this.bar.setTotal(total);
      this.bar.update(value, payload);
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
