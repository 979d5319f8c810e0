// Issue 6 item 5: `riskgate loadtest` against a real gateway behind a real Mosquitto. A ~8 s run of the gas-leak
// scenario compressed ×190 with a background fleet of 50 detectors at 200 msg/s; the report's counts must be exact —
// every published reading accepted and stored, nothing rejected, every expected alert on the stream with a latency —
// whatever the timing figures (which this test does not judge).
//
// The gateway runs with the settings docs/performance.md gives for a compressed run: RULE_HISTORY_CUTOFF_MS of a day
// (the scenario's 25 min of device time land in 8 s, so most of it lies > 10 min back) and ALERT_FLAP_FLIPS very high
// (the fleet's devices cross the threshold every few seconds of gateway time).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderChartSvg } from '../../src/loadtest/chart-svg.js';
import type { LoadtestReport } from '../../src/loadtest/report.js';
import { runLoadtest } from '../../src/loadtest/run-loadtest.js';
import { loadtestSeed } from '../../src/loadtest/seed-file.js';
import { SyntheticFleet } from '../../src/loadtest/synthetic-fleet.js';
import { scenarioSpeedFor } from '../../src/loadtest/workload.js';
import { loadScenarioFile, scenarioMessages, type Scenario } from '../../src/sim/scenario/index.js';
import { REPO_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, type RunningMosquitto } from '../helpers/services.js';

const RUN_MS = 8_000;
const FLEET_RATE = 200;

describe('riskgate loadtest against a gateway behind Mosquitto', () => {
  let mosquitto: RunningMosquitto;
  let gw: TestGateway;
  let tmp: string;
  let scenario: Scenario;
  let fleet: SyntheticFleet;
  let report: LoadtestReport;

  beforeAll(async () => {
    const res = loadScenarioFile(join(REPO_ROOT, 'devices/scenarios/gas-leak-kitchen.yaml'));
    if (!res.ok) throw new Error(JSON.stringify(res.problems));
    scenario = res.value;
    fleet = new SyntheticFleet({ devices: 50, alertEvery: 20 });
    tmp = mkdtempSync(join(tmpdir(), 'rg-loadtest-'));
    const seed = join(tmp, 'seed.json');
    writeFileSync(seed, JSON.stringify(loadtestSeed({ scenario, fleet })));
    mosquitto = await startMosquitto();
    gw = await startTestGateway({ MQTT_URL: mosquitto.url, REGISTRY_SEED: seed, RULE_HISTORY_CUTOFF_MS: '86400000', ALERT_FLAP_FLIPS: '1000000', RULES_HOT_RELOAD: 'false' });
    report = await runLoadtest({
      gatewayUrl: gw.httpUrl,
      token: gw.token,
      brokerUrl: mosquitto.url,
      scenario: { scenario, speed: scenarioSpeedFor(scenario, RUN_MS) },
      fleet: { fleet, ratePerS: FLEET_RATE },
      sampleIntervalMs: 500,
    });
  }, 90_000);

  afterAll(async () => {
    await gw?.stop();
    await mosquitto?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('every published reading was accepted and stored, and nothing was rejected', () => {
    const scenarioReadings = scenarioMessages(scenario).reduce((n, m) => n + m.readingTs.length, 0);
    const fleetMessages = report.published.messages - scenarioMessages(scenario).length;
    expect(fleetMessages).toBeGreaterThanOrEqual(Math.floor(((RUN_MS - 100) * FLEET_RATE) / 1000));
    expect(report.published).toMatchObject({ readings: scenarioReadings + fleetMessages, errors: 0 });
    expect(report.published.acked).toBe(report.published.messages);
    expect(report.gateway).toMatchObject({ accepted: report.published.readings, stored: report.published.readings, rejected_total: 0, rejected: {}, all_accounted: true, all_stored: true });
  });

  test('every expected alert arrived: the scenario’s reading-driven events and each fleet crossing and clear', () => {
    expect(report.alerts.missing).toEqual([]);
    expect(report.alerts.all_arrived).toBe(true);
    // gas-leak-kitchen expects 7 events; its escalation (gateway clock) is not expected of a compressed run.
    expect(report.alerts.skipped).toEqual([{ alert: 'shuxiang-hotpot/gas-kitchen-01 escalated gas.alarm_valve_open L1', reason: 'escalated runs on the gateway clock' }]);
    expect(fleet.expected.length).toBeGreaterThan(50);
    expect(report.alerts.expected).toBe(6 + fleet.expected.length);
    expect(report.alerts.arrived).toBe(report.alerts.expected);
    expect(report.alerts.stream_closed_early).toBeNull();
  });

  test('each alert caused by a published reading has a latency, and the percentiles are there', () => {
    const l = report.latency_ms;
    expect(l.matched).toBeGreaterThanOrEqual(report.alerts.expected);
    expect(l.count).toBe(l.matched);
    expect(l.matched + l.unmatched).toBe(report.alerts.received);
    for (const v of [l.p50, l.p95, l.p99, l.max]) {
      expect(typeof v).toBe('number');
      expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(l.p50 as number).toBeLessThanOrEqual(l.p95 as number);
    expect(l.p99 as number).toBeLessThanOrEqual(l.max as number);
    expect(report.latencies).toHaveLength(l.matched);
  });

  test('the timeline covers the run and the report draws as a chart', () => {
    expect(report.timeline.length).toBeGreaterThanOrEqual(RUN_MS / 1000);
    expect(report.timeline.reduce((n, r) => n + r.alerts, 0)).toBe(report.alerts.received);
    expect(report.gateway.peak_accepted_per_s).toBeGreaterThan(0);
    const svg = renderChartSvg(report);
    expect(svg).toContain('<polyline');
    expect(svg.match(/<circle /g)?.length).toBe(report.latencies.length);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});
