import { describe, expect, test } from 'vitest';
import { playScenario, scenarioMessages, scenarioSteps, type ScenarioMessage } from '../../../src/sim/scenario/index.js';
import { scenarioOf, scenarioYaml } from './fixture.js';

const steps = () => {
  const s = scenarioOf(scenarioYaml({ head: 'duration: 1m' }));
  return scenarioSteps(scenarioMessages(s), { startMs: s.startMs, durationMs: s.durationMs, tickEveryMs: 25_000 });
};

describe('sim/scenario player', () => {
  test('at infinite speed it walks every step in order: before, the messages, after', async () => {
    const log: string[] = [];
    const start = steps()[0]?.atMs ?? 0;
    const res = await playScenario(steps(), {
      speed: Infinity,
      beforeStep: (st) => void log.push(`before ${(st.atMs - start) / 1000}`),
      publish: async (m: ScenarioMessage) => void log.push(`publish ${m.deviceId}`),
      afterStep: (st) => void log.push(`after ${(st.atMs - start) / 1000}`),
    });
    expect(res).toMatchObject({ steps: 6, published: 4 });
    expect(log).toEqual([
      'before 0', 'publish gas-1', 'after 0',
      'before 20', 'publish gas-1', 'after 20',
      'before 25', 'after 25',
      'before 30', 'publish smoke-1', 'after 30',
      'before 40', 'publish gas-1', 'after 40',
      'before 50', 'after 50',
    ]);
  });

  test('at a finite speed each step waits for its scaled time', async () => {
    const sent: number[] = [];
    const t0 = Date.now();
    // 50 s of scenario at 1000× is 50 ms of wall time.
    await playScenario(steps(), { speed: 1000, publish: async () => void sent.push(Date.now() - t0) });
    expect(sent).toHaveLength(4);
    expect(sent[3]).toBeGreaterThanOrEqual(39); // the last message is 40 s into the scenario: ≥ 40 ms (timer granularity 1 ms)
    expect(sent[3]).toBeLessThan(1000);
  });

  test('an abort stops it between messages, and a speed that is not positive is refused', async () => {
    const ac = new AbortController();
    let published = 0;
    const run = playScenario(steps(), {
      speed: Infinity,
      signal: ac.signal,
      publish: async () => {
        if (++published === 2) ac.abort();
      },
    });
    await expect(run).rejects.toThrow();
    expect(published).toBe(2);
    await expect(playScenario(steps(), { speed: 0, publish: async () => {} })).rejects.toThrow(/speed must be > 0/);
  });
});
