import type { KindName } from '../kinds/kind.js';
import type { SimProfile } from './profile.js';
import type { SignalOverride } from './scenario-hook.js';
import { SimDevice, type SimPayload } from './sim-device.js';

/** One message of the simulated fleet. */
export interface SimMessage {
  /** Simulated send time, epoch ms (= `payload.ts`). */
  atMs: number;
  device: SimDevice;
  kind: KindName;
  topic: string;
  payload: SimPayload;
}

export interface FleetScheduleOptions {
  profiles: readonly SimProfile[];
  /** Seed of every draw: the same seed, profiles and start give the same messages. */
  seed: number;
  /** Simulated start time, epoch ms. */
  startMs: number;
  /**
   * Total messages per second of the fleet. Every device's interval is scaled by the same factor, so the fleet keeps
   * its mix; undefined keeps the models' intervals.
   */
  rate?: number;
  /** A scenario's per-device override (src/sim/scenario-hook.ts). */
  override?: SignalOverride;
}

/**
 * The fleet's messages in time order, computed, not timed: a min-heap of devices by next reading time (ties by
 * device index). Nothing here reads a clock or Math.random, so the sequence is a function of the options alone —
 * the real-time runner (simulation.ts) only decides when each message leaves.
 */
export class FleetSchedule {
  readonly devices: SimDevice[];
  /** Messages per second of the fleet at the models' intervals. */
  readonly naturalRate: number;
  /** Factor applied to every interval (1 without `rate`). */
  readonly intervalScale: number;
  readonly startMs: number;
  private readonly override?: SignalOverride;
  /** Heap of device indexes, ordered by `due`. */
  private readonly heap: number[] = [];
  private readonly due: Float64Array;
  /** Readings a scenario suppressed (returned null). */
  suppressed = 0;

  constructor(opts: FleetScheduleOptions) {
    this.startMs = opts.startMs;
    this.override = opts.override;
    this.devices = opts.profiles.map((p, i) => new SimDevice(i, p, opts.seed));
    this.naturalRate = opts.profiles.reduce((s, p) => s + 1 / p.intervalS, 0);
    this.intervalScale = opts.rate && opts.rate > 0 && this.naturalRate > 0 ? this.naturalRate / opts.rate : 1;
    this.due = new Float64Array(this.devices.length);
    for (const d of this.devices) {
      // First reading somewhere in the first interval, so the fleet does not start in lock-step.
      this.due[d.index] = opts.startMs + d.timing() * this.intervalMs(d);
      this.push(d.index);
    }
  }

  /** Scaled interval of a device, ms. */
  intervalMs(d: SimDevice): number {
    return d.profile.intervalS * 1000 * this.intervalScale;
  }

  /** Simulated time of the next message, or undefined for an empty fleet. */
  peekAtMs(): number | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : (this.due[top] as number);
  }

  /**
   * The next message due at or before `untilMs` (skipping readings a scenario suppressed), or undefined when none is
   * due by then.
   */
  next(untilMs = Infinity): SimMessage | undefined {
    for (;;) {
      const idx = this.heap[0];
      if (idx === undefined) return undefined;
      const d = this.devices[idx] as SimDevice;
      const atMs = Math.round(this.due[idx] as number);
      if (atMs > untilMs) return undefined;
      const tS = (atMs - this.startMs) / 1000;
      d.seq++;
      let data: Record<string, unknown> | null = d.data(tS, atMs);
      const ctx = { tS, nowMs: atMs, seq: d.seq, rand: d.scenarioRand };
      if (this.override?.reading) {
        const r = this.override.reading(d.info, data, ctx);
        if (r !== undefined) data = r;
      }
      const overrideS = this.override?.nextIntervalS?.(d.info, ctx);
      const jitter = 1 + d.profile.jitter * (2 * d.timing() - 1);
      const stepMs = overrideS !== undefined && overrideS > 0 ? overrideS * 1000 : this.intervalMs(d) * jitter;
      this.due[idx] = (this.due[idx] as number) + Math.max(1, stepMs);
      this.siftDown(0);
      if (data === null) {
        this.suppressed++;
        continue;
      }
      return { atMs, device: d, kind: d.profile.device.kind, topic: d.topic, payload: { ts: atMs, seq: d.seq, data } };
    }
  }

  /** Every message due up to and including `untilMs` (dry runs and tests). */
  *until(untilMs: number): Generator<SimMessage> {
    for (let m = this.next(untilMs); m; m = this.next(untilMs)) yield m;
  }

  private less(a: number, b: number): boolean {
    const da = this.due[a] as number;
    const db = this.due[b] as number;
    return da < db || (da === db && a < b);
  }

  private push(idx: number): void {
    const h = this.heap;
    h.push(idx);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i] as number, h[parent] as number)) break;
      [h[i], h[parent]] = [h[parent] as number, h[i] as number];
      i = parent;
    }
  }

  private siftDown(start: number): void {
    const h = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as number, h[m] as number)) m = l;
      if (r < h.length && this.less(h[r] as number, h[m] as number)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as number, h[i] as number];
      i = m;
    }
  }
}
