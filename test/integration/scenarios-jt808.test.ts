import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { AlertEvent } from '../../src/alerts/alert.js';
import { formatYamlProblem } from '../../src/config/yaml-file.js';
import { FakeClock } from '../../src/lib/clock.js';
import {
  compareEvents,
  formatJt808Differences,
  formatOffset,
  loadScenarioDir,
  parseScenario,
  playScenario,
  ScenarioJt808Terminals,
  scenarioJt808SeedYaml,
  scenarioMessages,
  scenarioSeedYaml,
  scenarioSteps,
  type Jt808DifferenceCount,
  type Scenario,
} from '../../src/sim/scenario/index.js';
import { connectPublisher, REPO_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';

// Issue 7 item 4: the vehicle scenarios of devices/scenarios/ through simulated JT/T 808 terminals instead of MQTT —
// 0x0100 / 0x0102, then every vehicle message as 0x0200 (0x0704 for a buffered upload) over TCP into the gateway's
// JT/T 808 server (a free loopback port) → pipeline → rule engine → alert service → WebSocket stream — must produce
// exactly the alert events `expect` lists, the same the MQTT run of test/integration/scenarios.test.ts is held to.
// Lockstep on a fake clock as there (docs/scenarios.md "Device time and gateway time"): a terminal's message counts
// as taken when the gateway's 0x8001 answers it (the server answers after the pipeline has the points). Non-vehicle
// devices of a scenario still publish over MQTT (the gateway's embedded broker).

const loaded = loadScenarioDir(join(REPO_ROOT, 'devices/scenarios'), 'devices/scenarios');
if (!loaded.ok) throw new Error(`invalid scenarios:\n${loaded.problems.map(formatYamlProblem).join('\n')}`);
const VEHICLE_SCENARIOS = loaded.value.filter((s) => s.devices.some((d) => d.device.kind === 'vehicle'));

/**
 * Differences between the JT/T 808 and the MQTT reading (src/sim/scenario/jt808.ts) a run may show: 0x0200 always
 * carries an altitude, the scenarios give none, so the terminals send 0 m — and no vehicle rule reads altitude_m
 * (checked below). Anything else fails the run with the list, so a new scenario cannot differ silently.
 */
const ACCEPTED_DIFFERENCES = new Set(['altitude_m filled']);

/**
 * Exercises what hazmat-night-ban does not: the terminal's alarm DWORD (SOS, bit 0), a vehicle without a phone of
 * its own (attrs.jt808_phone from the seed), a buffered upload (0x0704 data_type 0: points younger than the history
 * cut-off are evaluated live, as a `readings[]` message is), and a gas detector next to it on MQTT. Run over both
 * transports against the same `expect`.
 */
const LOCAL_YAML = `name: jt808-sos-and-buffered-overspeed
title: 货车一键报警与隧道内缓存超速(JT/T 808 测试)
start: '2025-03-15T10:00:00+08:00'
duration: 20m
devices:
  - { tenant: jt808-logistics, device_id: truck-sos-01, kind: vehicle, region: '510100', heartbeat_s: 30, attrs: { plate: 川A5S001, vehicle_class: truck } }
  - { tenant: jt808-logistics, device_id: gas-yard-01, kind: gas, region: '510100', heartbeat_s: 60 }
timeline:
  # Every 30 s at 50 km/h; the driver presses SOS at 10:03, the terminal clears it at 10:05 (the bit is 0 again).
  - device: truck-sos-01
    from: 0s
    until: 8m
    every: 30s
    data:
      speed_kmh: 50
      lat: &lat { points: [[0s, 30.70], [20m, 30.80]], decimals: 6 }
      lon: &lon { points: [[0s, 104.10], [20m, 104.20]], decimals: 6 }
      heading_deg: 40
      status_bits: 3
      alarm_bits: { steps: [[0s, 0], [3m, 1], [5m, 0]] }
      mileage_km: &km { points: [[0s, 1000], [20m, 1016]], decimals: 1 }
      satellites: 11
  # In a tunnel 10:08–10:12: a point every 20 s, buffered, uploaded at 10:12:10 — 110 km/h 10:09–10:10 (truck limit 100).
  - device: truck-sos-01
    from: 8m
    until: 12m
    every: 20s
    batch: true
    at: 12m10s
    data:
      speed_kmh: { steps: [[8m, 60], [9m, 110], [10m, 60]] }
      lat: *lat
      lon: *lon
      heading_deg: 40
      status_bits: 3
      alarm_bits: 0
      mileage_km: *km
      satellites: 11
  - device: truck-sos-01
    from: 12m30s
    until: 20m
    every: 30s
    data: { speed_kmh: 50, lat: *lat, lon: *lon, heading_deg: 40, status_bits: 3, alarm_bits: 0, mileage_km: *km, satellites: 11 }
  # The yard's gas detector keeps the gateway fed (INGEST_STALL_MS) while the truck is in the tunnel.
  - device: gas-yard-01
    from: 0s
    until: 20m
    every: 1m
    data: { gas_type: CH4, concentration_lel: 1 }
expect:
  - { device: truck-sos-01, event: raised, rule: vehicle.alarm_emergency, level: 1, title: 紧急报警(一键报警) }
  - { device: truck-sos-01, event: cleared, rule: vehicle.alarm_emergency, level: 1 }
  - { device: truck-sos-01, event: raised, rule: vehicle.overspeed, level: 3, title: 超速报警(限速100km/h) }
  - { device: truck-sos-01, event: cleared, rule: vehicle.overspeed, level: 3 }
`;

function localScenario(): Scenario {
  const r = parseScenario(LOCAL_YAML, 'scenarios-jt808.test.ts');
  if (!r.ok) throw new Error(r.problems.map(formatYamlProblem).join('\n'));
  return r.value;
}
const LOCAL = localScenario();

const TICK_EVERY_MS = 10_000;
const WAIT = { timeoutMs: 5_000, intervalMs: 1 } as const;

interface Stream {
  ws: WebSocket;
  events: AlertEvent[];
  closed: Promise<void>;
}

function openStream(gw: TestGateway): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.wsUrl}?since=0`, { headers: gw.auth });
    const s: Stream = { ws, events: [], closed: new Promise((r) => ws.once('close', () => r())) };
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { type: string; event?: AlertEvent };
      if (msg.type === 'alert_event' && msg.event) s.events.push(msg.event);
    });
    ws.once('open', () => resolve(s));
    ws.once('error', reject);
  });
}

async function counter(gw: TestGateway, c: 'mqttMessages' | 'jt808Locations', labels: Record<string, string> = {}): Promise<number> {
  const m = await gw.gateway.metrics[c].get();
  return m.values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, string | number | undefined>)[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

interface RunResult {
  events: AlertEvent[];
  differences: Jt808DifferenceCount[];
}

/**
 * Runs one scenario against a fresh gateway (embedded broker, JT/T 808 on a free port): vehicle messages through
 * terminals (`via: 'jt808'`) or everything over MQTT (`via: 'mqtt'`, for the local scenario's comparison run).
 */
async function run(s: Scenario, via: 'jt808' | 'mqtt'): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-scenario-jt808-'));
  const seed = join(dir, 'seed.yaml');
  writeFileSync(seed, via === 'jt808' ? scenarioJt808SeedYaml(s) : scenarioSeedYaml(s));
  const clock = new FakeClock(s.startMs);
  // The terminals send no 0x0002 (a scenario's silence stays silence, as over MQTT), and the fake clock jumps: keep
  // idle sessions open (the terminals would log in again anyway, see ScenarioJt808Terminals).
  const gw = await startTestGateway({ REGISTRY_SEED: seed, RULES_HOT_RELOAD: 'false', JT808_HEARTBEAT_TIMEOUT_MS: '86400000' }, { clock });
  const stream = await openStream(gw);
  const pub: MqttClient = await connectPublisher(gw.mqttUrl);
  const terminals = new ScenarioJt808Terminals({ host: '127.0.0.1', port: gw.gateway.jt808Port as number, scenario: s, replyTimeoutMs: 5000 });
  try {
    const messages = scenarioMessages(s);
    const steps = scenarioSteps(messages, { startMs: s.startMs, durationMs: s.durationMs, tickEveryMs: TICK_EVERY_MS });
    let published = 0;
    await playScenario(steps, {
      speed: Infinity,
      beforeStep: (step) => {
        clock.set(step.atMs);
        gw.gateway.rules.tick();
      },
      publish: async (m) => {
        // Resolves on 0x8001 result 0: the pipeline has the points.
        if (via === 'jt808' && terminals.handles(m)) return terminals.send(m);
        await pub.publishAsync(m.topic, m.payload, { qos: m.qos });
        published++;
      },
      afterStep: async () => {
        await waitFor(async () => (await counter(gw, 'mqttMessages')) >= published, { ...WAIT, what: `the gateway to take ${published} MQTT messages` });
      },
    });
    await waitFor(() => (stream.events.at(-1)?.seq ?? 0) === gw.gateway.alertStore.lastSeq(), { ...WAIT, what: 'the stream to catch up with the alert store' });
    expect(gw.gateway.deadLetters.size, 'no message of the scenario may be rejected').toBe(0);

    const vehicleMessages = messages.filter((m) => m.kind === 'vehicle');
    const vehiclePoints = vehicleMessages.reduce((n, m) => n + m.readingTs.length, 0);
    if (via === 'jt808') {
      // Every vehicle point came in over JT/T 808 (one login per vehicle), every other message over MQTT.
      expect(await counter(gw, 'jt808Locations')).toBe(vehiclePoints);
      expect(await counter(gw, 'mqttMessages')).toBe(messages.length - vehicleMessages.length);
      expect(terminals.stats).toMatchObject({ messages: vehicleMessages.length, points: vehiclePoints, logins: s.devices.filter((d) => d.device.kind === 'vehicle').length });
    } else {
      expect(await counter(gw, 'jt808Locations')).toBe(0);
      expect(await counter(gw, 'mqttMessages')).toBe(messages.length);
    }
    if (process.env.RG_SCENARIO_TRACE === '1') {
      console.log(`${s.name} via ${via}:\n${stream.events.map((e) => `  ${formatOffset(e.at - s.startMs).padEnd(10)} ${e.alert.device_id} ${e.type} ${e.alert.rule_id} L${e.alert.level}${e.alert.historical ? ' historical' : ''} «${e.alert.title}»`).join('\n')}`);
      if (via === 'jt808') console.log(formatJt808Differences(terminals.differences()).join('\n'));
    }
    return { events: stream.events, differences: terminals.differences() };
  } finally {
    terminals.close();
    stream.ws.close();
    await stream.closed;
    await pub.endAsync();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function expectOnlyAcceptedDifferences(s: Scenario, diffs: readonly Jt808DifferenceCount[]): void {
  const other = diffs.filter((d) => !ACCEPTED_DIFFERENCES.has(`${d.field} ${d.kind}`));
  expect(other, `${s.name}: the JT/T 808 readings differ from the MQTT ones:\n${formatJt808Differences(other).join('\n')}`).toEqual([]);
}

describe('scenarios through JT/T 808 terminals', () => {
  beforeAll(() => {
    expect(VEHICLE_SCENARIOS.map((s) => s.name)).toContain('hazmat-night-ban');
  });

  test('the one accepted difference is harmless: no vehicle rule reads altitude_m', () => {
    expect(readFileSync(join(REPO_ROOT, 'alert-rules/vehicle.yaml'), 'utf8')).not.toMatch(/altitude/);
  });

  test.each(VEHICLE_SCENARIOS.map((s) => [s.name, s] as const))('%s produces exactly its expected alert events over JT/T 808', async (_name, s) => {
    const { events, differences } = await run(s, 'jt808');
    const cmp = compareEvents(s, events);
    expect(cmp.ok, `${s.name}: alert events over JT/T 808 differ from expect:\n${cmp.report}`).toBe(true);
    expectOnlyAcceptedDifferences(s, differences);
  });

  describe('an SOS alarm bit and a buffered upload (0x0704), against the MQTT run of the same scenario', () => {
    let viaMqtt: RunResult | undefined;

    test('over MQTT it produces its expected events', async () => {
      viaMqtt = await run(LOCAL, 'mqtt');
      const cmp = compareEvents(LOCAL, viaMqtt.events);
      expect(cmp.ok, `alert events over MQTT differ from expect:\n${cmp.report}`).toBe(true);
    });

    test('over JT/T 808 the same events, at the same scenario times', async () => {
      if (!viaMqtt) throw new Error('the MQTT run failed: nothing to compare with');
      const mqttEvents = viaMqtt.events;
      const viaJt808 = await run(LOCAL, 'jt808');
      const cmp = compareEvents(LOCAL, viaJt808.events);
      expect(cmp.ok, `alert events over JT/T 808 differ from expect:\n${cmp.report}`).toBe(true);
      expectOnlyAcceptedDifferences(LOCAL, viaJt808.differences);
      const row = (e: AlertEvent): string => `${formatOffset(e.at - LOCAL.startMs)} ${e.alert.device_id} ${e.type} ${e.alert.rule_id} L${e.alert.level} ${e.alert.title}`;
      expect(viaJt808.events.map(row)).toEqual(mqttEvents.map(row));
    });
  });
});
