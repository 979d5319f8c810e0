import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { AlertEvent } from '../../src/alerts/alert.js';
import { formatYamlProblem } from '../../src/config/yaml-file.js';
import { FakeClock } from '../../src/lib/clock.js';
import { compareEvents, formatOffset, loadScenarioDir, playScenario, scenarioMessages, scenarioSeedYaml, scenarioSteps, type Scenario } from '../../src/sim/scenario/index.js';
import { connectPublisher, REPO_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, waitFor, type RunningMosquitto } from '../helpers/services.js';

// Every incident of devices/scenarios/*.yaml through the real path: a publisher → Mosquitto (QoS 1) → the gateway's
// MQTT ingest → pipeline → rule engine (default alert-rules/) → alert service → WebSocket stream. The gateway runs on
// a fake clock that the test steps through the scenario (lockstep), so hours of device time take seconds and every
// time-driven decision (`for` durations, offline, escalation) happens at the same scenario moment on every run.

const loaded = loadScenarioDir(join(REPO_ROOT, 'devices/scenarios'), 'devices/scenarios');
if (!loaded.ok) throw new Error(`invalid scenarios:\n${loaded.problems.map(formatYamlProblem).join('\n')}`);
const SCENARIOS = loaded.value;

/** Time-driven rules (offline) and escalation are evaluated at least this often while nothing is sent (the engine's own tick is 1 s of wall time). */
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

/** MQTT messages the gateway's ingest has taken so far (riskgate_mqtt_messages_total). */
async function messagesTaken(gw: TestGateway): Promise<number> {
  const m = await gw.gateway.metrics.mqttMessages.get();
  return m.values.reduce((sum, v) => sum + v.value, 0);
}

/** Runs one scenario against a fresh gateway behind `mosquitto`; returns the stream's events. */
async function run(s: Scenario, mosquitto: RunningMosquitto): Promise<{ events: AlertEvent[]; gw: TestGateway; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-scenario-'));
  const seed = join(dir, 'seed.yaml');
  writeFileSync(seed, scenarioSeedYaml(s));
  const clock = new FakeClock(s.startMs);
  const gw = await startTestGateway({ MQTT_URL: mosquitto.url, REGISTRY_SEED: seed, RULES_HOT_RELOAD: 'false' }, { clock });
  const stream = await openStream(gw);
  const pub: MqttClient = await connectPublisher(mosquitto.url);
  const cleanup = async (): Promise<void> => {
    stream.ws.close();
    await stream.closed;
    await pub.endAsync();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const messages = scenarioMessages(s);
    const steps = scenarioSteps(messages, { startMs: s.startMs, durationMs: s.durationMs, tickEveryMs: TICK_EVERY_MS });
    let sent = 0;
    await playScenario(steps, {
      speed: Infinity,
      // The gateway's clock reads the step's time before anything of it happens; the tick before the messages is the
      // one a real gateway would have run while they were on their way (offline, escalation up to this moment).
      beforeStep: (step) => {
        clock.set(step.atMs);
        gw.gateway.rules.tick();
      },
      publish: async (m) => {
        await pub.publishAsync(m.topic, m.payload, { qos: m.qos });
        sent++;
      },
      // Lockstep: the next step's clock may move only once the gateway has taken this step's messages.
      afterStep: async (step) => {
        if (step.messages.length > 0) await waitFor(async () => (await messagesTaken(gw)) >= sent, { ...WAIT, what: `the gateway to take ${sent} messages` });
      },
    });
    await waitFor(() => (stream.events.at(-1)?.seq ?? 0) === gw.gateway.alertStore.lastSeq(), { ...WAIT, what: 'the stream to catch up with the alert store' });
    expect(gw.gateway.deadLetters.size, 'no message of the scenario may be rejected').toBe(0);
    return { events: stream.events, gw, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

let mosquitto: RunningMosquitto;

describe('scenarios', () => {
  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });

  test.each(SCENARIOS.map((s) => [s.name, s] as const))('%s produces exactly its expected alert events over MQTT', async (_name, s) => {
    const { events, cleanup } = await run(s, mosquitto);
    try {
      // RG_SCENARIO_TRACE=1 prints every event with its scenario time (for writing docs/scenarios.md).
      if (process.env.RG_SCENARIO_TRACE === '1') {
        console.log(`${s.name}:\n${events.map((e) => `  ${formatOffset(e.at - s.startMs).padEnd(10)} ${e.alert.device_id} ${e.type} ${e.alert.rule_id} L${e.alert.level}${e.alert.historical ? ' historical' : ''} «${e.alert.title}» value ${e.alert.last_value}`).join('\n')}`);
      }
      const cmp = compareEvents(s, events);
      expect(cmp.ok, `${s.name}: alert events differ from expect:\n${cmp.report}`).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
