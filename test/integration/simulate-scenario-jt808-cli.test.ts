import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { simulateCommand } from '../../src/cli/simulate-command.js';
import { loadScenarioFile, scenarioJt808SeedYaml, scenarioMessages, type Scenario } from '../../src/sim/scenario/index.js';
import { metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';

/** `riskgate simulate --scenario FILE --jt808 HOST:PORT`: vehicles through simulated JT/T 808 terminals, the rest over MQTT. */

// A truck without a phone of its own (the seed gives it attrs.jt808_phone), live reports and one buffered upload
// (0x0704), and a gas detector on MQTT.
const SCENARIO = `name: jt808-cli
title: 车辆经 JT/T 808 上报(命令行测试)
start: '2025-03-15T10:00:00+08:00'
duration: 6m
devices:
  - { tenant: jt808-cli, device_id: truck-01, kind: vehicle, region: '510100', heartbeat_s: 30, attrs: { plate: 川A9C001, vehicle_class: truck } }
  - { tenant: jt808-cli, device_id: gas-01, kind: gas, region: '510100', heartbeat_s: 60 }
timeline:
  - device: truck-01
    from: 0s
    until: 3m
    every: 15s
    data: { speed_kmh: { points: [[0s, 40], [3m, 70]], decimals: 1 }, lat: 30.7, lon: 104.1, heading_deg: 90, status_bits: 3, alarm_bits: 0 }
  - device: truck-01
    from: 3m
    until: 5m
    every: 20s
    batch: true
    at: 5m30s
    data: { speed_kmh: 60, lat: 30.71, lon: 104.11, heading_deg: 90, status_bits: 3, alarm_bits: 0 }
  - device: gas-01
    from: 0s
    until: 6m
    every: 1m
    data: { gas_type: CH4, concentration_lel: 1 }
expect: []
`;

/** A truck the gateway does not know (its device id is its phone): its terminal is refused registration. */
const UNKNOWN = SCENARIO.replace('name: jt808-cli', 'name: jt808-cli-unknown').replaceAll('truck-01', "'013900009999'").replace('川A9C001', '川A9C099');

describe('simulate --scenario --jt808', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-sim-scn-jt808-'));
  const file = join(dir, 'jt808-cli.yaml');
  const unknownFile = join(dir, 'jt808-cli-unknown.yaml');
  let s: Scenario;
  let gw: TestGateway | undefined;

  beforeAll(async () => {
    writeFileSync(file, SCENARIO);
    writeFileSync(unknownFile, UNKNOWN);
    const loaded = loadScenarioFile(file);
    if (!loaded.ok) throw new Error(`scenario invalid: ${JSON.stringify(loaded.problems)}`);
    s = loaded.value;
    writeFileSync(join(dir, 'seed.yaml'), scenarioJt808SeedYaml(s));
    gw = await startTestGateway({ REGISTRY_SEED: join(dir, 'seed.yaml'), INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '100000' });
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function simulate(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await simulateCommand(args, { stdout: (x) => (out += x), stderr: (x) => (err += x) });
    return { code, out, err };
  }

  test('vehicle messages go through a JT/T 808 terminal (0x0200 and 0x0704), the gas detector over MQTT; every reading is accepted', async () => {
    const g = gw as TestGateway;
    const port = g.gateway.jt808Port as number;
    // The whole scenario lies in the past (on a whole second), so a fast replay stays inside the ingest window.
    const startMs = Math.floor((Date.now() - s.durationMs - 60_000) / 1000) * 1000;
    const messages = scenarioMessages(s, { seed: 1, startMs });
    const vehiclePoints = messages.filter((m) => m.kind === 'vehicle').reduce((n, m) => n + m.readingTs.length, 0);
    const gasMessages = messages.filter((m) => m.kind === 'gas').length;
    const { code, out, err } = await simulate(['--scenario', file, '--broker', g.mqttUrl, '--jt808', `127.0.0.1:${port}`, '--speed', '100000', '--start', String(startMs)]);
    expect(code, err).toBe(0);
    expect(err).toContain(`JT/T 808 terminals to 127.0.0.1:${port}: jt808-cli/truck-01 → 14400000000 (assigned: the gateway must hold it as attrs.jt808_phone)`);
    // 12 live 0x0200 + one 0x0704 of 6 points.
    expect(err).toContain(`(13 JT/T 808 messages with ${vehiclePoints} locations, ${gasMessages} over MQTT)`);
    expect(err).toMatch(/what JT\/T 808 carried differently from MQTT:\n {2}altitude_m filled in 18 readings/);
    expect(out).toContain('expected alert events (0)');

    const readings = vehiclePoints + gasMessages;
    await waitFor(async () => (await metricValue(g.httpUrl, 'riskgate_readings_accepted_total')) >= readings, { timeoutMs: 15_000, intervalMs: 100, what: 'every reading accepted' });
    expect(await metricValue(g.httpUrl, 'riskgate_readings_accepted_total')).toBe(readings);
    expect(await metricValue(g.httpUrl, 'riskgate_readings_rejected_total')).toBe(0);
    // (metricValue reads names of a–z and _ only.)
    const count = async (c: 'jt808Locations' | 'mqttMessages'): Promise<number> => (await g.gateway.metrics[c].get()).values.reduce((n, v) => n + v.value, 0);
    expect(await count('jt808Locations')).toBe(vehiclePoints);
    expect(await count('mqttMessages')).toBe(gasMessages);
  });

  test('a vehicle the gateway does not know: its terminal is refused registration, and the run fails with the reason', async () => {
    const g = gw as TestGateway;
    const startMs = Math.floor((Date.now() - s.durationMs - 60_000) / 1000) * 1000;
    const { code, err } = await simulate(['--scenario', unknownFile, '--broker', g.mqttUrl, '--jt808', `127.0.0.1:${g.gateway.jt808Port}`, '--speed', '100000', '--start', String(startMs)]);
    expect(code).toBe(1);
    // It sends its plate, which no vehicle has: 2 (数据库中无该车辆).
    expect(err).toMatch(/failed after 0 messages: 013900009999: registration refused \(0x8100 result 2\)/);
  });

  test('bad --jt808 values and --jt808 with a fleet are usage errors', async () => {
    for (const bad of ['localhost', '127.0.0.1:0', '127.0.0.1:70000', ':7611']) {
      const r = await simulate(['--scenario', file, '--jt808', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain('--jt808 must be HOST:PORT');
    }
    const r = await simulate(['--fleet', 'devices/demo.yaml', '--jt808', '127.0.0.1:7611']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--jt808 plays the vehicles of a scenario file');
  });
});
