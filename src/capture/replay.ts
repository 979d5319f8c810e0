import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../lib/clock.js';
import { payloadBytes, type Capture } from './capture-format.js';
import { latestDeviceTs, rebaseOffsetMs, shiftPayload } from './rebase.js';

/** Progress of a replay, reported after each acknowledged message. */
export interface ReplayProgress {
  /** Messages acknowledged by the broker (PUBACK), over all passes. */
  acked: number;
  /** Messages to send over all passes. */
  total: number;
  /** Since the replay started, ms. */
  elapsedMs: number;
  /** Capture time still to play in this and later passes, ms at 1× (0 at max speed). */
  remainingCaptureMs: number;
}

/** Options of {@link replayCapture}. */
export interface ReplayOptions {
  /** `mqtt://host:port` (or mqtts://, ws://). */
  brokerUrl: string;
  username?: string;
  password?: string;
  /** Default `rg-replay-<random>`. */
  clientId?: string;
  /** Playback factor: 1 keeps the recorded timing, 10 is ten times faster, `Infinity` as fast as acks allow. Default 1. */
  speed?: number;
  /** Passes over the capture. Default 1. */
  loops?: number;
  /** Move device times so the recording lands now (see rebase.ts). Default false. */
  rebaseTime?: boolean;
  /** QoS 1 publishes awaiting their PUBACK at once. Default 64. */
  maxInflight?: number;
  /** Aborts the replay (the promise rejects with the abort reason). */
  signal?: AbortSignal;
  clock?: Clock;
  onProgress?: (p: ReplayProgress) => void;
}

export const DEFAULT_REPLAY_OPTIONS = { speed: 1, loops: 1, rebaseTime: false, maxInflight: 64 } as const;

/** What a replay did. */
export interface ReplayResult {
  /** Messages acknowledged by the broker. */
  published: number;
  /** Per pass: wall time it started and the device-time offset applied (0 without rebasing), ms. */
  passes: { startedAt: number; offsetMs: number }[];
  elapsedMs: number;
}

/** `10x`, `0.5x`, `10`, `max` → factor (`Infinity` for max); undefined when malformed or not positive. */
export function parseSpeed(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'max') return Infinity;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(t);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * Publishes a capture's messages with QoS 1 in file order, keeping the recorded spacing divided by `speed`
 * (none at max speed), `loops` times. Resolves once every message of every pass is acknowledged.
 */
export async function replayCapture(capture: Capture, opts: ReplayOptions): Promise<ReplayResult> {
  const o = { ...DEFAULT_REPLAY_OPTIONS, ...withoutUndefined(opts) };
  const clock = o.clock ?? systemClock;
  if (!(o.speed > 0)) throw new Error(`speed must be > 0, got ${o.speed}`);
  if (!Number.isInteger(o.loops) || o.loops < 1) throw new Error(`loops must be a whole number ≥ 1, got ${o.loops}`);
  const messages = capture.messages;
  const lastT = messages.at(-1)?.t ?? 0;
  const latestTs = o.rebaseTime ? latestDeviceTs(messages) : undefined;
  const total = messages.length * o.loops;
  const client = await mqtt.connectAsync(opts.brokerUrl, {
    clientId: o.clientId ?? `rg-replay-${Math.random().toString(36).slice(2, 10)}`,
    username: o.username,
    password: o.password,
    clean: true,
    connectTimeout: 10_000,
  }, false); // fail at once when the broker cannot be reached
  const started = clock.now();
  const passes: ReplayResult['passes'] = [];
  let acked = 0;
  let failure: unknown;
  let done = false;
  try {
    const inflight = new Set<Promise<void>>();
    for (let pass = 0; pass < o.loops; pass++) {
      const passStart = clock.now();
      const offsetMs = latestTs === undefined ? 0 : rebaseOffsetMs(passStart, lastT, o.speed, latestTs);
      passes.push({ startedAt: passStart, offsetMs });
      for (const m of messages) {
        o.signal?.throwIfAborted();
        if (Number.isFinite(o.speed)) {
          const wait = passStart + m.t / o.speed - clock.now();
          if (wait > 0) await sleep(wait, undefined, { signal: o.signal });
        }
        while (inflight.size >= o.maxInflight) await Promise.race(inflight);
        if (failure !== undefined) throw failure;
        const bytes = offsetMs !== 0 && m.payload !== undefined ? Buffer.from(JSON.stringify(shiftPayload(m.payload, offsetMs))) : payloadBytes(m);
        const remainingCaptureMs = Number.isFinite(o.speed) ? lastT - m.t + (o.loops - pass - 1) * lastT : 0;
        const p: Promise<void> = publish(client, m.topic, bytes, m.retain === true)
          .then(
            () => {
              acked++;
              o.onProgress?.({ acked, total, elapsedMs: clock.now() - started, remainingCaptureMs });
            },
            (err: unknown) => {
              failure ??= err;
            },
          )
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await Promise.all(inflight);
      if (failure !== undefined) throw failure;
    }
    done = true;
  } finally {
    // After a failure or an abort, unacknowledged messages are not waited for.
    await client.endAsync(!done);
  }
  return { published: acked, passes, elapsedMs: clock.now() - started };
}

function publish(client: MqttClient, topic: string, payload: Buffer, retain: boolean): Promise<unknown> {
  return client.publishAsync(topic, payload, { qos: 1, retain });
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
