import { InfluxV1PointWriter, type InfluxV1PointWriterOptions } from './influx-v1.js';
import { InfluxV2PointWriter, type InfluxV2PointWriterOptions } from './influx-v2.js';
import type { PointWriter } from './point.js';
import { SqlitePointWriter, type SqlitePointWriterOptions } from './sqlite.js';

/** Which time-series store to write to, with its connection options. */
export type PointWriterConfig =
  | ({ backend: 'sqlite' } & SqlitePointWriterOptions)
  | ({ backend: 'influx-v1' } & InfluxV1PointWriterOptions)
  | ({ backend: 'influx-v2' } & InfluxV2PointWriterOptions);

/** Builds (does not start) the writer of the configured backend. */
export function createPointWriter(cfg: PointWriterConfig): PointWriter {
  switch (cfg.backend) {
    case 'sqlite': {
      const { backend: _backend, ...opts } = cfg;
      return new SqlitePointWriter(opts);
    }
    case 'influx-v1': {
      const { backend: _backend, ...opts } = cfg;
      return new InfluxV1PointWriter(opts);
    }
    case 'influx-v2': {
      const { backend: _backend, ...opts } = cfg;
      return new InfluxV2PointWriter(opts);
    }
  }
}
