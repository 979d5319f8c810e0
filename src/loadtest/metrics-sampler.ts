import { scrapeGateway, type GatewayCounters } from './gateway-metrics.js';
import type { PublishProgress } from './publisher.js';
import { wallNow } from './publisher.js';

// Scrapes the gateway's counters at a fixed interval while a run is on, together with the publisher's own count, so
// the report can show published, accepted and stored per second on one time axis.

/** One scrape with what had been published by then. */
export interface RunSample {
  /** Wall time of the scrape's answer, epoch ms. */
  atMs: number;
  counters: GatewayCounters;
  /** Messages and readings handed to the broker client by then. */
  publishedMessages: number;
  publishedReadings: number;
}

/** Scrapes every `intervalMs` (default 1000) until stopped; a failed scrape is skipped and counted. */
export class MetricsSampler {
  readonly samples: RunSample[] = [];
  failures = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly gatewayUrl: string,
    private readonly progress: PublishProgress,
    private readonly intervalMs = 1000,
  ) {}

  /** Takes a first sample (the baseline) and starts the interval. */
  async start(): Promise<RunSample> {
    await this.sample();
    this.timer = setInterval(() => {
      this.inFlight ??= this.sample().finally(() => (this.inFlight = undefined));
    }, this.intervalMs);
    return this.samples[0] as RunSample;
  }

  /** Takes one sample now (after any in flight) and returns the latest. */
  async sampleNow(): Promise<RunSample | undefined> {
    await this.inFlight;
    await this.sample();
    return this.samples.at(-1);
  }

  /** Stops the interval; the last sample is the final state. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private async sample(): Promise<void> {
    try {
      const counters = await scrapeGateway(this.gatewayUrl);
      this.samples.push({ atMs: wallNow(), counters, publishedMessages: this.progress.messages, publishedReadings: this.progress.readings });
    } catch {
      this.failures++;
    }
  }
}
