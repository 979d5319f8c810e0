import { describe, expect, test } from 'vitest';
import { createMetrics } from '../../../src/lib/metrics.js';

describe('lib/metrics', () => {
  test('a tallied counter (issue 9) shows every tally, by label value, wherever it is read', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.readingsAccepted.tally('gas');
    m.readingsAccepted.tally('gas');
    m.readingsAccepted.tally('smoke');
    expect((await m.readingsAccepted.get()).values.map((v) => [v.labels.kind, v.value])).toEqual([
      ['gas', 2],
      ['smoke', 1],
    ]);
    m.readingsAccepted.tally('gas');
    m.mqttMessages.tally('telemetry');
    const text = await m.registry.metrics();
    expect(text).toContain('riskgate_readings_accepted_total{kind="gas"} 3');
    expect(text).toContain('riskgate_readings_accepted_total{kind="smoke"} 1');
    expect(text).toContain('riskgate_mqtt_messages_total{channel="telemetry"} 1');
    // Read again with nothing new: the same sums, nothing counted twice.
    expect(await m.registry.metrics()).toBe(text);
  });
});
