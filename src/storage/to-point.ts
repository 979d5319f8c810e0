import type { Reading } from '../pipeline/reading.js';
import type { Point } from './point.js';

/**
 * The stored form of a reading: measurement = kind, tags = registry tags + string fields + identity,
 * fields shared with the reading (not copied — neither side mutates them after validation).
 */
export function readingToPoint(reading: Reading): Point {
  return {
    measurement: reading.kind,
    // Identity last: a payload enum that happens to be called `device` or `tenant` must not rename the series.
    tags: { ...reading.tags, tenant: reading.tenant, device: reading.deviceId },
    fields: reading.fields,
    timeMs: reading.ts,
  };
}
