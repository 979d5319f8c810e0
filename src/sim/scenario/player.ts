import { setTimeout as sleep } from 'node:timers/promises';
import type { ScenarioMessage, ScenarioStep } from './messages.js';

/** How {@link playScenario} sends the steps. */
export interface PlayOptions {
  /** Sends one message (e.g. an MQTT client's `publishAsync(topic, payload, {qos: 1})`); awaited before the next. */
  publish(message: ScenarioMessage): Promise<unknown>;
  /**
   * Scenario time runs this many times faster than wall time: 1 = real time, 60 = an hour a minute, Infinity = as
   * fast as `publish` and the hooks allow. Default 1.
   */
  speed?: number;
  /** Before a step's messages (a lockstep driver sets its fake clock to `step.atMs` and ticks the engine here). */
  beforeStep?(step: ScenarioStep): Promise<void> | void;
  /** After a step's messages (a lockstep driver waits here until the gateway has taken them). */
  afterStep?(step: ScenarioStep): Promise<void> | void;
  /** Stops between messages. */
  signal?: AbortSignal;
  /** Wall clock, ms. Default Date.now. */
  now?: () => number;
}

/** What {@link playScenario} did. */
export interface PlayResult {
  steps: number;
  published: number;
  /** Wall time it took, ms. */
  wallMs: number;
}

/**
 * Walks the steps in order, sending each step's messages at `(step.atMs − first step) / speed` of wall time after
 * the start (never earlier; late when `publish` is slower than the pace). Deterministic order whatever the speed.
 */
export async function playScenario(steps: readonly ScenarioStep[], opts: PlayOptions): Promise<PlayResult> {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  const now = opts.now ?? Date.now;
  const wallStart = now();
  const t0 = steps[0]?.atMs ?? 0;
  let published = 0;
  for (const step of steps) {
    opts.signal?.throwIfAborted();
    if (Number.isFinite(speed)) {
      const wait = wallStart + (step.atMs - t0) / speed - now();
      if (wait > 0) await sleep(wait, undefined, { signal: opts.signal });
    }
    await opts.beforeStep?.(step);
    for (const m of step.messages) {
      opts.signal?.throwIfAborted();
      await opts.publish(m);
      published++;
    }
    await opts.afterStep?.(step);
  }
  return { steps: steps.length, published, wallMs: now() - wallStart };
}
