import { payloadBytes, type Capture } from '../capture/capture-format.js';
import { latestDeviceTs, shiftPayload } from '../capture/rebase.js';
import { parseTopic } from '../ingest/mqtt/topics.js';
import { parseDeviceTime } from '../kinds/envelope.js';
import { scenarioMessages, type Scenario } from '../sim/scenario/index.js';
import type { PlannedMessage } from './planned-message.js';

// A capture or a scenario as a load-test plan: every message with its due wall time, and device times moved so the
// recording or incident lands now. As `replay --rebase-time` does (src/capture/rebase.ts), the latest reading lands
// when its message is due, so nothing is ahead of the gateway's clock and the spacing of device times — which the
// rules' `for` durations and rates measure — stays as recorded, however fast the run plays it.

/** How fast to play: a factor on the recorded timing (`Infinity` = all at once), or a fixed message rate. */
export type Pace = { speed: number } | { ratePerS: number };

const DAY_MS = 86_400_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Device times of a wire payload (`ts`, or each `readings[].ts`), epoch ms. */
export function payloadReadingTs(payload: unknown): number[] {
  if (!isObject(payload)) return [];
  const entries = Array.isArray(payload.readings) ? payload.readings : [payload];
  const out: number[] = [];
  for (const e of entries) {
    const ts = isObject(e) && (typeof e.ts === 'string' || typeof e.ts === 'number') ? parseDeviceTime(e.ts) : undefined;
    if (ts !== undefined) out.push(ts);
  }
  return out;
}

/** Offsets of the messages from the first send, ms, at a pace. */
function sendOffsets(times: readonly number[], pace: Pace): number[] {
  if ('ratePerS' in pace) {
    if (!(pace.ratePerS > 0)) throw new RangeError(`rate must be > 0, got ${pace.ratePerS}`);
    return times.map((_, i) => (i * 1000) / pace.ratePerS);
  }
  if (!(pace.speed > 0)) throw new RangeError(`speed must be > 0, got ${pace.speed}`);
  const first = times[0] ?? 0;
  return times.map((t) => (Number.isFinite(pace.speed) ? (t - first) / pace.speed : 0));
}

/** A capture's messages due from `startMs` on at `pace`, device times rebased (payloads that are not JSON as recorded). */
export function capturePlan(capture: Capture, startMs: number, pace: Pace): PlannedMessage[] {
  const msgs = capture.messages;
  const offsets = sendOffsets(msgs.map((m) => m.t), pace);
  const latestTs = latestDeviceTs(msgs);
  const lastSendMs = startMs + (offsets[offsets.length - 1] ?? 0);
  const shift = latestTs === undefined ? 0 : Math.round(lastSendMs - latestTs);
  return msgs.map((m, i) => {
    const topic = parseTopic(m.topic);
    const payload = m.payload === undefined ? undefined : shiftPayload(m.payload, shift);
    return {
      sendAtMs: startMs + (offsets[i] as number),
      topic: m.topic,
      payload: payload === undefined ? payloadBytes(m) : JSON.stringify(payload),
      tenant: topic.ok ? topic.topic.tenant : '',
      deviceId: topic.ok ? topic.topic.deviceId : '',
      readingTs: payloadReadingTs(payload),
      track: topic.ok,
    };
  });
}

/**
 * A scenario's messages due from `startMs` on at `speed` (scenario time per wall time; `Infinity` = all at once).
 * Offset 0 is placed so that the last message's readings are due when it is sent; a scenario that keeps its time of
 * day (vehicle windows) is moved back by whole days only, so it may lie up to a day further in the past.
 */
export function scenarioPlan(s: Scenario, startMs: number, speed: number, seed?: number): PlannedMessage[] {
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  const probe = scenarioMessages(s, { seed, startMs: 0 });
  const first = probe[0]?.offsetMs ?? 0;
  const last = probe[probe.length - 1]?.offsetMs ?? 0;
  const wallOf = (offsetMs: number): number => startMs + (Number.isFinite(speed) ? (offsetMs - first) / speed : 0);
  let zero = wallOf(last) - last;
  if (s.keepTimeOfDay) zero = s.startMs + Math.floor((zero - s.startMs) / DAY_MS) * DAY_MS;
  return scenarioMessages(s, { seed, startMs: Math.floor(zero) }).map((m) => ({
    sendAtMs: wallOf(m.offsetMs),
    topic: m.topic,
    payload: m.payload,
    tenant: m.tenant,
    deviceId: m.deviceId,
    readingTs: m.readingTs,
    track: true,
  }));
}

/** The speed that plays a scenario's messages within `durationMs` of wall time. */
export function scenarioSpeedFor(s: Scenario, durationMs: number): number {
  const msgs = scenarioMessages(s, { startMs: 0 });
  const span = (msgs[msgs.length - 1]?.offsetMs ?? 0) - (msgs[0]?.offsetMs ?? 0);
  return span > 0 && durationMs > 0 ? span / durationMs : Infinity;
}
