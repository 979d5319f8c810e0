import { describe, expect, test } from 'vitest';
import { parseEnvelope } from '../../../src/kinds/envelope.js';
import { formatTs, scenarioMessages, scenarioSeedYaml, scenarioSteps, startNear } from '../../../src/sim/scenario/index.js';
import { scenarioOf, scenarioYaml } from './fixture.js';

const START = Date.parse('2025-03-15T03:00:00Z'); // 11:00 Beijing

describe('sim/scenario messages', () => {
  test('the same scenario, seed and start give the same messages; another seed changes only the noise', () => {
    const s = scenarioOf(scenarioYaml());
    const a = scenarioMessages(s);
    expect(scenarioMessages(s)).toEqual(a);
    expect(scenarioMessages(s, { seed: s.seed, startMs: s.startMs })).toEqual(a);
    const b = scenarioMessages(s, { seed: 99 });
    expect(b.map((m) => [m.atMs, m.topic])).toEqual(a.map((m) => [m.atMs, m.topic]));
    expect(b.map((m) => m.payload)).not.toEqual(a.map((m) => m.payload));
  });

  test('messages come in time order (timeline order among equal times), each a valid envelope on its device topic', () => {
    const s = scenarioOf(scenarioYaml());
    const msgs = scenarioMessages(s);
    expect(msgs.map((m) => [m.offsetMs, m.topic, m.qos])).toEqual([
      [0, 'rg/v1/t1/gas/gas-1/telemetry', 1],
      [20_000, 'rg/v1/t1/gas/gas-1/telemetry', 1],
      [30_000, 'rg/v1/t1/smoke/smoke-1/telemetry', 1],
      [40_000, 'rg/v1/t1/gas/gas-1/telemetry', 1],
    ]);
    expect(msgs.map((m) => m.atMs - START)).toEqual([0, 20_000, 30_000, 40_000]);
    for (const m of msgs) expect(parseEnvelope(JSON.parse(m.payload))).toMatchObject({ ok: true, rejects: [] });
    const gas = msgs.filter((m) => m.deviceId === 'gas-1').map((m) => JSON.parse(m.payload) as { ts: number; seq: number; data: { concentration_lel: number } });
    expect(gas.map((p) => [p.ts - START, p.seq])).toEqual([
      [0, 1],
      [20_000, 2],
      [40_000, 3],
    ]);
    // The curve 10 → 40 %LEL over the minute, ±1 noise.
    gas.forEach((p, i) => expect(Math.abs(p.data.concentration_lel - (10 + 10 * i))).toBeLessThanOrEqual(1));
    // ts_format beijing: a zone-less Beijing time, which the envelope reads back as the same instant.
    const smoke = msgs[2]?.payload ?? '';
    expect(JSON.parse(smoke)).toEqual({ ts: '2025-03-15 11:00:30', seq: 1, data: { alarm: true } });
    expect(parseEnvelope(JSON.parse(smoke))).toMatchObject({ ok: true, entries: [{ ts: START + 30_000 }] });
  });

  test('a buffered upload is one readings[] message sent at its upload time; seq follows device time across entries', () => {
    const s = scenarioOf(
      scenarioYaml({
        timeline: `  - { device: gas-1, at: 0s, data: { concentration_lel: 1 } }
  - { device: gas-1, from: 5m, until: 20m, every: 5m, batch: true, at: 30m, ts_format: iso, data: { concentration_lel: { points: [[5m, 10], [15m, 30]] } } }
  - { device: gas-1, at: 30m, data: { concentration_lel: 2 } }
  - { device: gas-1, at: 2m, data: { concentration_lel: 1.5 } }`,
        expect: '  []',
      }),
    );
    const msgs = scenarioMessages(s);
    expect(msgs.map((m) => [m.offsetMs / 60_000, m.entry, m.readingTs.map((t) => (t - START) / 60_000)])).toEqual([
      [0, 0, [0]],
      [2, 3, [2]],
      [30, 1, [5, 10, 15]],
      [30, 2, [30]],
    ]);
    expect(JSON.parse(msgs[2]?.payload ?? '')).toEqual({
      readings: [
        { ts: '2025-03-15T11:05:00+08:00', seq: 3, data: { concentration_lel: 10 } },
        { ts: '2025-03-15T11:10:00+08:00', seq: 4, data: { concentration_lel: 20 } },
        { ts: '2025-03-15T11:15:00+08:00', seq: 5, data: { concentration_lel: 30 } },
      ],
    });
    expect(JSON.parse(msgs[1]?.payload ?? '')).toMatchObject({ seq: 2 });
    expect(JSON.parse(msgs[3]?.payload ?? '')).toMatchObject({ seq: 6 });
  });

  test('a start given by the caller moves every time', () => {
    const s = scenarioOf(scenarioYaml());
    const later = START + 86_400_000 + 123;
    const msgs = scenarioMessages(s, { startMs: later });
    expect(msgs.map((m) => m.atMs - later)).toEqual([0, 20_000, 30_000, 40_000]);
    expect(JSON.parse(msgs[0]?.payload ?? '')).toMatchObject({ ts: later });
  });

  test('steps group messages by time and add tick-only steps up to the end', () => {
    const s = scenarioOf(scenarioYaml({ head: 'duration: 1m' }));
    const msgs = scenarioMessages(s);
    const steps = scenarioSteps(msgs, { startMs: s.startMs, durationMs: s.durationMs, tickEveryMs: 25_000 });
    expect(steps.map((st) => [(st.atMs - START) / 1000, st.messages.length])).toEqual([
      [0, 1],
      [20, 1],
      [25, 0],
      [30, 1],
      [40, 1],
      [50, 0],
    ]);
    expect(scenarioSteps(msgs, { startMs: s.startMs, durationMs: s.durationMs }).map((st) => st.messages.length)).toEqual([1, 1, 1, 1]);
  });

  test('formatTs writes epoch ms, zone-less Beijing time or ISO with +08:00', () => {
    const t = Date.parse('2025-03-15T16:30:05.250Z');
    expect(formatTs(t, 'epoch_ms')).toBe(t);
    expect(formatTs(t, 'beijing')).toBe('2025-03-16 00:30:05.250');
    expect(formatTs(t - 250, 'iso')).toBe('2025-03-16T00:30:05+08:00');
  });

  test('startNear keeps the time of day only for scenarios that ask for it', () => {
    const any = scenarioOf(scenarioYaml());
    const now = Date.parse('2025-06-01T12:34:56Z');
    expect(startNear(any, now)).toBe(now);
    const pinned = scenarioOf(scenarioYaml({ head: 'keep_time_of_day: true' }));
    const start = startNear(pinned, now);
    expect(start).toBe(Date.parse('2025-06-02T03:00:00Z')); // the next 11:00 Beijing time
    expect(startNear(pinned, start)).toBe(start);
  });

  test('the registry seed holds the scenario tenants and devices as a device file', () => {
    const s = scenarioOf(scenarioYaml());
    const yaml = scenarioSeedYaml(s);
    expect(yaml).toContain('device_id: gas-1');
    expect(yaml).toContain('device_id: smoke-1');
    expect(yaml).toMatch(/^name: scenario-unit-fixture$/m);
  });
});
