import type { FieldValue } from '../pipeline/reading.js';

/** One time-series point, backend-neutral. Its identity is (measurement, tags, timeMs). */
export interface Point {
  /** One measurement per device kind (`gas`, `dust`, …). */
  measurement: string;
  /** Always `tenant` and `device`; `region` and `site` when the registry knows them; plus string fields of the reading. */
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Device time, epoch ms. */
  timeMs: number;
}

/** A storage backend. Constructors do nothing; `start()` connects (and creates the database when allowed). */
export interface PointWriter {
  /** Short backend name for metrics and logs: `sqlite`, `influx-v1`, `influx-v2`. */
  readonly name: string;
  start(): Promise<void>;
  /** Writes one batch; resolves when the backend acknowledged it, rejects when it did not (the caller retries). */
  write(points: readonly Point[]): Promise<void>;
  /**
   * Optional, with `writeEncoded`: the points in the writer's wire form (InfluxDB: their line protocol), built when
   * the batcher seals a record rather than when its batch is written, so the record holds one flat string instead
   * of the point objects until then (issue 9).
   */
  encode?(points: readonly Point[]): string;
  /** Writes one batch of `encode` results (in order), like `write`. */
  writeEncoded?(chunks: readonly string[]): Promise<void>;
  /** True when the backend answers (cheap check used by /readyz). */
  ping(): Promise<boolean>;
  stop(): Promise<void>;
}
