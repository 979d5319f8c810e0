import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import type { PublishLog } from './alert-matching.js';
import type { PlannedMessage } from './planned-message.js';

// Publishes a plan on one MQTT connection at its due times, with at most `maxInflight` QoS 1 messages awaiting their
// PUBACK. Messages due together go out back to back; the loop yields to the event loop every few hundred so the
// WebSocket receipts it is measuring are timestamped when they arrive, not after a burst.

/** Wall clock with sub-millisecond resolution, epoch ms: the one clock publications and receipts are measured on. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Options of {@link publishPlanned}. */
export interface PublishOptions {
  client: MqttClient;
  /** 1 (the wire contract) or 0. Default 1. */
  qos?: 0 | 1;
  /** QoS 1 messages awaiting their PUBACK at once. Default 1000. */
  maxInflight?: number;
  /** Where tracked readings' publication times go. */
  log: PublishLog;
  /** Counts as it goes (read by a sampler while the run is on); a new one when absent. */
  progress?: PublishProgress;
  signal?: AbortSignal;
  /** Default {@link wallNow}. */
  now?: () => number;
}

export const DEFAULT_PUBLISH_OPTIONS = { qos: 1, maxInflight: 1000 } as const;

/** Running counts of a publication. */
export interface PublishProgress {
  /** Messages handed to the client. */
  messages: number;
  /** Readings those messages carry. */
  readings: number;
  /** Messages acknowledged (QoS 1: PUBACK; QoS 0: written). */
  acked: number;
  errors: number;
  /** The first error's message. */
  firstError?: string;
  /** Wall time of the first and the last hand-over, epoch ms. */
  firstAtMs?: number;
  lastAtMs?: number;
  /** The most behind schedule a message went out, ms. */
  maxLagMs: number;
}

export function newPublishProgress(): PublishProgress {
  return { messages: 0, readings: 0, acked: 0, errors: 0, maxLagMs: 0 };
}

/** Messages sent between two yields to the event loop. */
const YIELD_EVERY = 200;

/** Sends every message of `plan` (in order, never before it is due); resolves once all are acknowledged. */
export async function publishPlanned(plan: Iterable<PlannedMessage>, opts: PublishOptions): Promise<PublishProgress> {
  const qos = opts.qos ?? DEFAULT_PUBLISH_OPTIONS.qos;
  const maxInflight = opts.maxInflight ?? DEFAULT_PUBLISH_OPTIONS.maxInflight;
  const now = opts.now ?? wallNow;
  const p = opts.progress ?? newPublishProgress();
  let inflight = 0;
  let wake: (() => void) | undefined;
  const settled = (): void => {
    inflight--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  let sinceYield = 0;
  for (const m of plan) {
    opts.signal?.throwIfAborted();
    const wait = m.sendAtMs - now();
    if (wait > 1) {
      await sleep(wait, undefined, { signal: opts.signal });
      sinceYield = 0;
    } else if (++sinceYield >= YIELD_EVERY) {
      await yieldToLoop();
      sinceYield = 0;
    }
    while (inflight >= maxInflight) await new Promise<void>((resolve) => (wake = resolve));
    const at = now();
    if (m.track) opts.log.record(m.tenant, m.deviceId, m.readingTs, at);
    p.firstAtMs ??= at;
    p.lastAtMs = at;
    p.maxLagMs = Math.max(p.maxLagMs, at - m.sendAtMs);
    p.messages++;
    p.readings += m.readingTs.length;
    inflight++;
    opts.client.publish(m.topic, m.payload, { qos }, (err) => {
      if (err) {
        p.errors++;
        p.firstError ??= err.message;
      } else {
        p.acked++;
      }
      settled();
    });
  }
  while (inflight > 0) await new Promise<void>((resolve) => (wake = resolve));
  return p;
}
