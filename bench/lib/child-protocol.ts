import type { MqttClient } from 'mqtt';

// What the bench's consumer processes (baseline-subscriber.ts, naive-pipeline.ts) print on stdout, one JSON object a
// line, and how the bench reads it. Kept tiny so printing costs the consumers next to nothing.

/** A line of a consumer's stdout. */
export type ChildLine =
  /** Subscribed: the consumer is ready for messages. */
  | { type: 'ready' }
  /** Running totals, every STATS_EVERY_MS: messages processed, points written (naive pipeline), as of `at` (wall ms). */
  | { type: 'stats'; processed: number; written: number; write_errors: number; at: number }
  /** Observations: [tenant, device_id, device ts, wall ms when observed, what] — an alert transition or a delivery sample. */
  | { type: 'obs'; o: [string, string, number, number, string][] };

/** How often a consumer prints its totals, ms. */
export const STATS_EVERY_MS = 100;

/** Wall clock with sub-millisecond resolution, epoch ms (same as src/loadtest/publisher.ts wallNow). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Writes one line to stdout. */
export function emit(line: ChildLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** `--name value` arguments of a consumer process. */
export function argValue(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

/** Buffers observations and prints them with the next stats line. */
export class Reporter {
  processed = 0;
  written = 0;
  writeErrors = 0;
  private obs: [string, string, number, number, string][] = [];

  observe(tenant: string, deviceId: string, ts: number, atMs: number, what: string): void {
    this.obs.push([tenant, deviceId, ts, atMs, what]);
  }

  start(): void {
    setInterval(() => this.flush(), STATS_EVERY_MS);
  }

  flush(): void {
    if (this.obs.length > 0) emit({ type: 'obs', o: this.obs.splice(0) });
    emit({ type: 'stats', processed: this.processed, written: this.written, write_errors: this.writeErrors, at: wallNow() });
  }
}

/** Subscribes the consumer's client to every uplink topic, starts reporting, says it is ready, and ends on SIGTERM. */
export async function runConsumer(client: MqttClient, qos: 0 | 1, r: Reporter): Promise<void> {
  await client.subscribeAsync('rg/v1/#', { qos });
  r.start();
  emit({ type: 'ready' });
  process.on('SIGTERM', () => {
    r.flush();
    void client.endAsync(true).then(() => process.exit(0));
  });
}
