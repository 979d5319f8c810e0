import { buildTopic } from '../../ingest/mqtt/topics.js';
import type { KindName } from '../../kinds/kind.js';
import { scenarioReadings, type ScenarioReading } from './readings.js';
import type { Scenario, ScenarioDevice, TsFormat } from './schema.js';

/** One MQTT message of a scenario: what to publish, and when. */
export interface ScenarioMessage {
  /** When to send it on the scenario's timeline (gateway time), epoch ms. */
  atMs: number;
  /** The same, ms after the scenario's start. */
  offsetMs: number;
  /** `rg/v1/{tenant}/{kind}/{deviceId}/{channel}`. */
  topic: string;
  /** UTF-8 JSON: `{ts, seq, data}`, or `{readings: [...]}` for a buffered upload. */
  payload: string;
  /** Always 1: the wire contract's QoS. */
  qos: 1;
  tenant: string;
  deviceId: string;
  kind: KindName;
  /** Device times of the readings it carries (one; several for a `readings[]` batch), epoch ms. */
  readingTs: number[];
  /** Index of the timeline entry it comes from. */
  entry: number;
}

/** Options of {@link scenarioMessages}. */
export interface ScenarioMessageOptions {
  /** Noise seed. Default: the scenario's `seed` (1 unless it says otherwise). */
  seed?: number;
  /** Epoch ms of offset 0. Default: the scenario's `start`. See {@link startNear} to move it. */
  startMs?: number;
}

const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** A device time as the wire carries it (README "Wire contract": a zone-less time is Beijing time). */
export function formatTs(ts: number, format: TsFormat): number | string {
  if (format === 'epoch_ms') return ts;
  const local = new Date(ts + BEIJING_OFFSET_MS).toISOString(); // 2025-03-15T11:20:05.000Z, read as Beijing time
  const ms = ts % 1000 === 0 ? '' : local.slice(19, 23);
  if (format === 'beijing') return `${local.slice(0, 10)} ${local.slice(11, 19)}${ms}`;
  return `${local.slice(0, 19)}${ms}+08:00`;
}

/**
 * The scenario as a deterministic list of MQTT messages, in sending order (by time, then timeline order). The same
 * scenario, seed and start give byte-identical payloads. `seq` counts each device's readings in device-time order
 * from 1, as a device's own counter would (a buffered reading keeps the number it was measured with).
 *
 * Device times follow the timeline exactly: a gateway evaluates them as the scenario expects when its clock reads
 * `atMs` as each message arrives — a fake clock stepped through the messages (test/integration/scenarios.test.ts),
 * or the real clock with `startMs` ≈ now at speed 1. Sent faster against a real clock, the device times run ahead of
 * it (INGEST_MAX_FUTURE_MS rejects them after 5 min); sent with an old `startMs`, they are evaluated as history.
 */
export function scenarioMessages(s: Scenario, opts: ScenarioMessageOptions = {}): ScenarioMessage[] {
  const startMs = opts.startMs ?? s.startMs;
  const readings = scenarioReadings(s, { seed: opts.seed ?? s.seed });

  // Each device's counter, in device-time order (stable: timeline order among equal times).
  const seqOf = new Map<ScenarioReading, number>();
  const byDevice = new Map<number, ScenarioReading[]>();
  for (const r of readings) {
    const list = byDevice.get(r.device);
    if (list) list.push(r);
    else byDevice.set(r.device, [r]);
  }
  for (const list of byDevice.values()) [...list].sort((a, b) => a.offsetMs - b.offsetMs).forEach((r, i) => seqOf.set(r, i + 1));

  const messages: ScenarioMessage[] = [];
  const message = (entry: number, device: ScenarioDevice, sendOffsetMs: number, body: unknown, readingTs: number[]): void => {
    const d = device.device;
    const channel = (s.timeline[entry] as Scenario['timeline'][number]).channel;
    messages.push({
      atMs: startMs + sendOffsetMs,
      offsetMs: sendOffsetMs,
      topic: buildTopic({ tenant: d.tenant, kind: d.kind, deviceId: d.deviceId, channel }),
      payload: JSON.stringify(body),
      qos: 1,
      tenant: d.tenant,
      deviceId: d.deviceId,
      kind: d.kind,
      readingTs,
      entry,
    });
  };
  const wire = (r: ScenarioReading) => {
    const format = (s.timeline[r.entry] as Scenario['timeline'][number]).tsFormat;
    return { ts: formatTs(startMs + r.offsetMs, format), seq: seqOf.get(r), data: r.data };
  };

  s.timeline.forEach((e, entry) => {
    const device = s.devices[e.device] as ScenarioDevice;
    const mine = readings.filter((r) => r.entry === entry);
    if (e.batchAtMs !== undefined) {
      message(entry, device, e.batchAtMs, { readings: mine.map(wire) }, mine.map((r) => startMs + r.offsetMs));
      return;
    }
    for (const r of mine) message(entry, device, r.sendOffsetMs, wire(r), [startMs + r.offsetMs]);
  });
  // Array.prototype.sort is stable: equal times keep timeline order.
  return messages.sort((a, b) => a.atMs - b.atMs);
}

/** One moment of a scenario run: the time to set, and the messages to send then (none for a pure tick). */
export interface ScenarioStep {
  atMs: number;
  messages: ScenarioMessage[];
}

/** Options of {@link scenarioSteps}. */
export interface ScenarioStepOptions {
  /** Epoch ms of offset 0 (as given to scenarioMessages). */
  startMs: number;
  /** Scenario length, ms (`Scenario.durationMs`): ticks continue until start + this. */
  durationMs: number;
  /**
   * Add a step without messages every this many ms, so time-driven rules (offline) and escalation are evaluated while
   * nothing is sent. Undefined: only the message times (a publisher against a gateway with its own timers).
   */
  tickEveryMs?: number;
}

/** Groups the messages by sending time and adds tick-only steps: the order a lockstep driver walks. */
export function scenarioSteps(messages: readonly ScenarioMessage[], opts: ScenarioStepOptions): ScenarioStep[] {
  const byTime = new Map<number, ScenarioMessage[]>();
  for (const m of messages) {
    const list = byTime.get(m.atMs);
    if (list) list.push(m);
    else byTime.set(m.atMs, [m]);
  }
  if (opts.tickEveryMs !== undefined && opts.tickEveryMs > 0) {
    for (let t = opts.startMs; t <= opts.startMs + opts.durationMs; t += opts.tickEveryMs) if (!byTime.has(t)) byTime.set(t, []);
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([atMs, list]) => ({ atMs, messages: list }));
}

const DAY_MS = 86_400_000;

/**
 * A start for running the scenario near `nearMs` (e.g. now): `nearMs` itself, or — when the scenario keeps its time
 * of day (vehicle windows) — the first moment at or after `nearMs` with the same Beijing time of day as `start`.
 */
export function startNear(s: Scenario, nearMs: number): number {
  if (!s.keepTimeOfDay) return nearMs;
  const days = Math.ceil((nearMs - s.startMs) / DAY_MS);
  return s.startMs + days * DAY_MS;
}
