import { describe, expect, test } from 'vitest';
import { countersDelta, gatewayCounters, parseMetricsText, totalRejected } from '../../../src/loadtest/gateway-metrics.js';

const SCRAPE = `# HELP riskgate_readings_accepted_total Readings validated and accepted, by kind
# TYPE riskgate_readings_accepted_total counter
riskgate_readings_accepted_total{kind="gas"} 120
riskgate_readings_accepted_total{kind="smoke"} 30
riskgate_readings_rejected_total{reason="schema_violation"} 2
riskgate_readings_rejected_total{reason="unknown_device"} 1
riskgate_points_written_total{backend="sqlite"} 140
riskgate_mqtt_messages_total{channel="telemetry"} 150
riskgate_mqtt_messages_total{channel="event"} 3
riskgate_readings_accepted_total_extra 99
riskgate_process_cpu_seconds_total 1.5
`;

describe('gateway-metrics', () => {
  test('every sample line is parsed with its labels; comments are skipped', () => {
    const samples = parseMetricsText('# a comment\nm{a="x",b="y \\"q\\""} 1.5e3\nn 2\n\n');
    expect(samples).toEqual([
      { name: 'm', labels: { a: 'x', b: 'y "q"' }, value: 1500 },
      { name: 'n', labels: {}, value: 2 },
    ]);
  });

  test('counters are summed over their labels and rejects kept by reason; similar names do not count', () => {
    expect(gatewayCounters(SCRAPE)).toEqual({ accepted: 150, stored: 140, rejected: { schema_violation: 2, unknown_device: 1 }, mqttMessages: 153 });
  });

  test('the delta of two scrapes leaves out reasons that did not grow', () => {
    const a = gatewayCounters(SCRAPE);
    const b = gatewayCounters(SCRAPE.replace('} 120', '} 220').replace('"unknown_device"} 1', '"unknown_device"} 4').replace('} 140', '} 240') + 'riskgate_readings_rejected_total{reason="rate_limited"} 5\n');
    const d = countersDelta(a, b);
    expect(d).toEqual({ accepted: 100, stored: 100, rejected: { unknown_device: 3, rate_limited: 5 }, mqttMessages: 0 });
    expect(totalRejected(d)).toBe(8);
  });
});
