import { describe, expect, test } from 'vitest';
import { renderProgress } from '../../../src/sim/progress.js';
import { SimStats } from '../../../src/sim/sim-stats.js';

describe('sim/progress', () => {
  test('shows totals, the rate of the last interval, errors, connections and counts per kind', () => {
    const stats = new SimStats();
    stats.connections.wanted = 4;
    stats.connections.connected = 4;
    const prev = stats.snapshot(1_000);
    for (let i = 0; i < 150; i++) stats.acked('gas');
    for (let i = 0; i < 50; i++) stats.acked('vehicle');
    stats.failed('smoke', 'smoke-1: not connected', true);
    stats.inFlight = 7;
    const now = stats.snapshot(2_000);
    const lines = renderProgress({ title: 'simulate city', targetRate: 200, durationMs: 60_000 }, 0, prev, now);
    expect(lines[0]).toBe('simulate city   00:00:02 / 00:01:00');
    expect(lines[1]).toBe('sent 200   rate 200 msg/s (target 200)   errors 1 (1 not connected)   in flight 7   lag 0.0 s   connections 4/4');
    expect(lines[2]).toContain('gas 150 (150/s)');
    expect(lines[2]).toContain('vehicle 50 (50.0/s)');
    expect(lines[2]).toContain('smoke 0 (0.0/s, 1 err)');
    expect(lines[3]).toBe('  last error: smoke-1: not connected');
  });
});
