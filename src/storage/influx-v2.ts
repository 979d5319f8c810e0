import { InfluxDB, Point as LinePoint, type WriteOptions } from '@influxdata/influxdb-client';
import type { Point, PointWriter } from './point.js';

/** Options of the native InfluxDB 2.x/3.x API backend (`/api/v2/write`). */
export interface InfluxV2PointWriterOptions {
  /** Base URL, `http://host:8086`. */
  url: string;
  org: string;
  bucket: string;
  /** API token; sent as `Authorization: Token …` (VictoriaMetrics ignores it). */
  token: string;
  /** Per-request timeout of writes and pings, ms. Default 10_000. */
  timeoutMs?: number;
}

/**
 * The client's WriteApi batches, retries and — when its retry buffer is full — drops the oldest lines,
 * and when a batch outgrows `batchSize`/`maxBatchBytes` it sends the extra chunk in the background and
 * swallows its error. Our batcher does all of that, so each `write()` gets a WriteApi sized to hold the
 * whole batch, with no timer, no retry, and a `writeFailed` that turns every failure into a rejection
 * (which also keeps the client from logging to the console on its own).
 */
function writeOptionsFor(points: number): Partial<WriteOptions> {
  return {
    batchSize: points + 1,
    maxBatchBytes: Number.POSITIVE_INFINITY,
    flushInterval: 0,
    maxRetries: 0,
    writeFailed: (error: Error) => Promise.reject(error),
  };
}

/** Writes batches through the 2.x `/api/v2/write` API with `@influxdata/influxdb-client`, precision ms. */
export class InfluxV2PointWriter implements PointWriter {
  readonly name = 'influx-v2';
  private client: InfluxDB | undefined;

  constructor(private readonly opts: InfluxV2PointWriterOptions) {}

  async start(): Promise<void> {
    this.client = new InfluxDB({ url: this.opts.url, token: this.opts.token, timeout: this.opts.timeoutMs ?? 10_000 });
  }

  async write(points: readonly Point[]): Promise<void> {
    if (this.client === undefined) throw new Error('influx-v2 writer is not started');
    const api = this.client.getWriteApi(this.opts.org, this.opts.bucket, 'ms', writeOptionsFor(points.length));
    for (const p of points) api.writePoint(toLinePoint(p));
    // close() sends the one buffered batch and rejects with the HTTP/network error when it fails.
    await api.close();
  }

  /** `/health` exists on InfluxDB 2.x and VictoriaMetrics; InfluxDB 3 answers it too. */
  async ping(): Promise<boolean> {
    if (this.client === undefined) return false;
    try {
      await this.client.transport.request('/health', null, { method: 'GET' });
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.client = undefined;
  }
}

/**
 * Numbers are always floats (`floatField`, never `i`), so a field's type cannot flip between batches.
 * `floatField` throws on NaN/±Infinity, which would fail the batch on every retry; such values have no
 * line-protocol form and are left out. The client skips empty tag values and points without fields.
 */
function toLinePoint(p: Point): LinePoint {
  const lp = new LinePoint(p.measurement).timestamp(p.timeMs);
  for (const key in p.tags) lp.tag(key, p.tags[key] as string);
  for (const key in p.fields) {
    const v = p.fields[key];
    if (typeof v === 'boolean') lp.booleanField(key, v);
    else if (typeof v === 'number' && Number.isFinite(v)) lp.floatField(key, v);
  }
  return lp;
}
