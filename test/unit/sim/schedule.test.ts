import { describe, expect, test } from 'vitest';
import { getKind } from '../../../src/kinds/index.js';
import { validateData } from '../../../src/kinds/validate.js';
import { FleetSchedule } from '../../../src/sim/schedule.js';
import type { SignalOverride } from '../../../src/sim/scenario-hook.js';
import { START_MS, fleet } from './helpers.js';

const demo = fleet('devices/fleets/demo.yaml');
const lines = (s: FleetSchedule, ms: number): string[] => [...s.until(START_MS + ms)].map((m) => `${m.topic} ${JSON.stringify(m.payload)}`);

describe('sim/schedule', () => {
  test('the same seed and start give the identical message sequence', () => {
    const a = lines(new FleetSchedule({ profiles: demo.profiles, seed: 42, startMs: START_MS }), 300_000);
    const b = lines(new FleetSchedule({ profiles: demo.profiles, seed: 42, startMs: START_MS }), 300_000);
    expect(a.length).toBeGreaterThan(500);
    expect(b).toEqual(a);
  });

  test('another seed gives other values and another order', () => {
    const a = lines(new FleetSchedule({ profiles: demo.profiles, seed: 42, startMs: START_MS }), 60_000);
    const b = lines(new FleetSchedule({ profiles: demo.profiles, seed: 43, startMs: START_MS }), 60_000);
    expect(b).not.toEqual(a);
  });

  test('messages come in time order, each device with seq 1, 2, 3 … and ts = its scheduled time', () => {
    const s = new FleetSchedule({ profiles: demo.profiles, seed: 1, startMs: START_MS });
    const seqs = new Map<string, number>();
    let last = 0;
    for (const m of s.until(START_MS + 120_000)) {
      expect(m.atMs).toBeGreaterThanOrEqual(last);
      last = m.atMs;
      expect(m.payload.ts).toBe(m.atMs);
      expect(m.payload.seq).toBe((seqs.get(m.topic) ?? 0) + 1);
      seqs.set(m.topic, m.payload.seq);
    }
    expect(seqs.size).toBe(demo.profiles.length);
  });

  test('every demo payload is valid for its kind', () => {
    const s = new FleetSchedule({ profiles: demo.profiles, seed: 1, startMs: START_MS });
    for (const m of s.until(START_MS + 600_000)) {
      const r = validateData(getKind(m.kind), m.payload.data, 'data');
      expect(r.ok ? [] : r.errors, m.topic).toEqual([]);
    }
  });

  test('a device reports at its interval, within its jitter', () => {
    const s = new FleetSchedule({ profiles: demo.profiles, seed: 1, startMs: START_MS });
    const times = [...s.until(START_MS + 600_000)].filter((m) => m.device.info.deviceId === 'smoke-0301').map((m) => m.atMs);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    for (const g of gaps) expect(Math.abs(g - 15_000)).toBeLessThanOrEqual(15_000 * 0.02 + 1);
  });

  test('--rate scales every interval alike: the fleet sends about rate × seconds messages', () => {
    const s = new FleetSchedule({ profiles: demo.profiles, seed: 1, startMs: START_MS, rate: 50 });
    expect(s.intervalScale).toBeCloseTo(s.naturalRate / 50, 9);
    const n = [...s.until(START_MS + 60_000)].length;
    expect(n).toBeGreaterThan(50 * 60 * 0.95);
    expect(n).toBeLessThan(50 * 60 * 1.05);
  });

  test('a scenario override changes readings, silences a device and shortens an interval — deterministically', () => {
    const override: SignalOverride = {
      reading(device, data, ctx) {
        if (device.deviceId === 'gas-home-0301' && ctx.tS > 30) data.concentration_lel = Math.round(30 + 10 * ctx.rand());
        if (device.deviceId === 'smoke-0502') return null;
        return undefined;
      },
      nextIntervalS: (device, ctx) => (device.deviceId === 'gas-home-0301' && ctx.tS > 30 ? 1 : undefined),
    };
    const run = () => [...new FleetSchedule({ profiles: demo.profiles, seed: 9, startMs: START_MS, override }).until(START_MS + 120_000)];
    const msgs = run();
    expect(msgs.some((m) => m.device.info.deviceId === 'smoke-0502')).toBe(false);
    const home = msgs.filter((m) => m.device.info.deviceId === 'gas-home-0301' && m.atMs > START_MS + 32_000);
    expect(home.length).toBeGreaterThan(60);
    for (const m of home) expect(m.payload.data.concentration_lel).toBeGreaterThanOrEqual(30);
    expect(run().map((m) => JSON.stringify(m.payload))).toEqual(msgs.map((m) => JSON.stringify(m.payload)));
    // The other devices are untouched by the scenario's draws.
    const plain = [...new FleetSchedule({ profiles: demo.profiles, seed: 9, startMs: START_MS }).until(START_MS + 120_000)];
    const other = (ms: typeof msgs) => ms.filter((m) => m.device.info.deviceId === 'dust-collector-01').map((m) => JSON.stringify(m.payload));
    expect(other(msgs)).toEqual(other(plain));
  });
});
