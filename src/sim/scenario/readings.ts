import type { Scenario, TimelineEntry } from './schema.js';
import { fnv1a, mulberry32, valueAt, type NoiseSource } from './value-spec.js';

/** One reading the timeline produces, before it is put on the wire. */
export interface ScenarioReading {
  /** Index of the timeline entry it comes from. */
  entry: number;
  /** Index into `Scenario.devices`. */
  device: number;
  /** Device time, ms after `start`. */
  offsetMs: number;
  /** When it is sent, ms after `start` (later than `offsetMs` for a buffered upload). */
  sendOffsetMs: number;
  /** The payload's `data`. */
  data: Record<string, unknown>;
}

/**
 * Where the noise comes from: `seeded` gives every (device, field) its own deterministic stream from the seed (so
 * adding a field or a device leaves the others' noise unchanged); `low` / `high` put every noisy value at the bottom
 * / top of its band (the loader validates both extremes, so a scenario is valid whatever the seed).
 */
export type NoiseMode = { seed: number } | 'low' | 'high';

/** Every reading of the timeline, entry by entry in file order, each entry's readings in time order. */
export function scenarioReadings(s: Scenario, noise: NoiseMode): ScenarioReading[] {
  const streams = new Map<string, () => number>();
  const sourceFor = (device: number): NoiseSource => {
    if (noise === 'low') return () => 0;
    if (noise === 'high') return () => 1 - Number.EPSILON;
    const d = s.devices[device]?.device;
    return (path) => {
      const key = `${d?.tenant}/${d?.deviceId}/${path}`;
      let r = streams.get(key);
      if (!r) {
        r = mulberry32(fnv1a(`${noise.seed}/${key}`));
        streams.set(key, r);
      }
      return r();
    };
  };
  const out: ScenarioReading[] = [];
  s.timeline.forEach((e: TimelineEntry, entry) => {
    const src = sourceFor(e.device);
    for (const offsetMs of e.readingOffsetsMs) {
      const data: Record<string, unknown> = {};
      for (const [field, spec] of Object.entries(e.data)) data[field] = valueAt(spec, offsetMs, src, field);
      out.push({ entry, device: e.device, offsetMs, sendOffsetMs: e.batchAtMs ?? offsetMs, data });
    }
  });
  return out;
}
