import { describe, expect, test } from 'vitest';
import { PublishLog, type ReceivedAlert, type StreamAlertEvent } from '../../../src/loadtest/alert-matching.js';
import { checkExpected } from '../../../src/loadtest/expected-alerts.js';
import type { GatewayCounters } from '../../../src/loadtest/gateway-metrics.js';
import type { RunSample } from '../../../src/loadtest/metrics-sampler.js';
import { buildReport, formatColumns, formatReportTable, type RunObservations } from '../../../src/loadtest/report.js';

const T0 = Date.parse('2026-05-01T10:00:00Z');

const counters = (accepted: number, stored: number, rejected: Record<string, number> = {}): GatewayCounters => ({ accepted, stored, rejected, mqttMessages: 0 });
const sample = (dtMs: number, c: GatewayCounters, published: number): RunSample => ({ atMs: T0 + dtMs, counters: c, publishedMessages: published, publishedReadings: published });

function alert(type: StreamAlertEvent['type'], receivedAtMs: number, ts: { raised_at?: number; cleared_at?: number | null } = {}): ReceivedAlert {
  return {
    receivedAtMs,
    event: {
      seq: 1,
      type,
      at: receivedAtMs,
      actor: 'system',
      alert: { tenant: 't1', device_id: 'gas-1', rule_id: 'gas.lel', rule_type: 'threshold', level: 3, historical: false, title: '', raised_at: ts.raised_at ?? 1, last_at: 1, cleared_at: ts.cleared_at ?? null },
    },
  };
}

/** A 3-second run: 202 readings published, 200 accepted, 2 rejected (the gateway had 5 rejects before), three alerts. */
function observations(): RunObservations {
  const log = new PublishLog();
  log.record('t1', 'gas-1', [1], T0 + 500);
  log.record('t1', 'gas-1', [2], T0 + 1500);
  const received = [alert('raised', T0 + 510, { raised_at: 1 }), alert('cleared', T0 + 1530, { cleared_at: 2 }), alert('escalated', T0 + 2500)];
  return {
    startedAtMs: T0,
    endedAtMs: T0 + 3_000,
    gatewayUrl: 'http://gw',
    brokerUrl: 'mqtt://broker',
    qos: 1,
    workload: ['fleet of 10 gas detectors'],
    offeredRatePerS: 100,
    progress: { messages: 202, readings: 202, acked: 202, errors: 0, firstAtMs: T0, lastAtMs: T0 + 2_000, maxLagMs: 3.3 },
    samples: [
      sample(-100, counters(1000, 900, { bad_topic: 5 }), 0),
      sample(1_000, counters(1100, 950, { bad_topic: 5 }), 100),
      sample(2_000, counters(1200, 1080, { bad_topic: 5, schema_violation: 2 }), 202),
      sample(3_000, counters(1200, 1100, { bad_topic: 5, schema_violation: 2 }), 202),
    ],
    received,
    log,
    expectations: checkExpected(
      [
        { device: 't1/gas-1', events: ['raised'], rule: 'gas.lel', level: 3 },
        { device: 't1/gas-1', events: ['level_changed'], rule: 'gas.lel', level: 2 },
      ],
      received,
    ),
  };
}

describe('report', () => {
  test('totals are the counters grown since the baseline; rates come from the scrapes', () => {
    const r = buildReport(observations());
    expect(r.gateway).toEqual({
      accepted: 200,
      stored: 200,
      rejected_total: 2,
      rejected: { schema_violation: 2 },
      accepted_per_s: 100, // 200 readings, accepted by the scrape 2 s after the first publication
      stored_per_s: 66.7, // 200 stored by the scrape at 3 s
      peak_accepted_per_s: 100,
      peak_stored_per_s: 130,
      all_accounted: true,
      all_stored: true,
      drain_s: 0,
    });
    expect(r.published).toMatchObject({ messages: 202, readings: 202, rate_per_s: 100.5, max_lag_ms: 3.3 });
    expect(r.timeline.map((row) => [row.t_s, row.published_per_s, row.accepted_per_s, row.stored_per_s, row.rejected_per_s])).toEqual([
      [1, 90.9, 90.9, 45.5, 0],
      [2, 102, 100, 130, 2],
      [3, 0, 0, 20, 0],
    ]);
  });

  test('latency is measured for the events caused by a published reading only', () => {
    const r = buildReport(observations());
    expect(r.latency_ms).toMatchObject({ count: 2, p50: 10, p95: 30, p99: 30, max: 30, matched: 2, unmatched: 1 });
    expect(r.latencies).toEqual([
      { t_s: 0.51, ms: 10 },
      { t_s: 1.53, ms: 30 },
    ]);
    expect(r.timeline.map((row) => [row.alerts, row.latency_p95_ms])).toEqual([
      [1, 10],
      [1, 30],
      [1, null],
    ]);
  });

  test('a missing expected alert is named; with nothing expected, all_arrived is null', () => {
    const r = buildReport(observations());
    expect(r.alerts).toMatchObject({ received: 3, expected: 2, arrived: 1, all_arrived: false, missing: ['t1/gas-1 level_changed gas.lel L2'] });
    expect(buildReport({ ...observations(), expectations: null }).alerts.all_arrived).toBeNull();
  });

  test('readings the gateway never accounted for are reported, with no drain time', () => {
    const o = observations();
    const r = buildReport({ ...o, progress: { ...o.progress, readings: 250 } });
    expect(r.gateway.all_accounted).toBe(false);
    expect(r.gateway.drain_s).toBeNull();
    expect(formatReportTable(r)).toContain('202 of 250 readings');
  });

  test('the table shows the totals, rates, rejects, latency percentiles and the expected alerts', () => {
    const text = formatReportTable(buildReport(observations()));
    expect(text).toMatch(/^riskgate loadtest: fleet of 10 gas detectors\n/);
    expect(text).toMatch(/published messages\s+202\s+100\.5/);
    expect(text).toMatch(/accepted readings\s+200\s+100\s+100/);
    expect(text).toMatch(/stored readings\s+200\s+66\.7\s+130/);
    expect(text).toContain('rejects by reason: schema_violation 2');
    expect(text).toMatch(/publish → WebSocket\s+2\s+10\s+30\s+30\s+30/);
    expect(text).toContain('expected alerts: 1/2 arrived — MISSING 1:');
    expect(text).toContain('✗ t1/gas-1 level_changed gas.lel L2');
  });

  test('columns are padded to the widest cell: the first left-aligned, the rest right-aligned', () => {
    expect(formatColumns([['a', '1'], ['bbb', '22']], '')).toBe('a      1\nbbb   22');
  });
});
