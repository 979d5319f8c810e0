import { systemClock, type Clock } from '../lib/clock.js';
import type { FleetSchedule, SimMessage } from './schedule.js';
import type { SimStats } from './sim-stats.js';

/** Where messages go: the MQTT transport, or a fake in tests. */
export interface SimTransport {
  /** Sends one message; `done` is called once it is acknowledged or failed. False when it could not be sent at all. */
  publish(m: SimMessage, done: (err?: Error) => void): boolean;
}

export interface SimulationOptions {
  schedule: FleetSchedule;
  transport: SimTransport;
  stats: SimStats;
  /** Default the system clock. */
  clock?: Clock;
  /** Most unacknowledged messages; beyond it the run waits (and falls behind, see `stats.lagMs`). Default 2000. */
  maxInFlight?: number;
  /** Most messages sent in one event-loop turn. Default 500. */
  batch?: number;
  /** Called with every message handed to the transport. */
  onMessage?: (m: SimMessage) => void;
}

/** Defaults of {@link SimulationOptions}: messages in flight, messages per event-loop turn. */
export const DEFAULT_SIMULATION_OPTIONS = { maxInFlight: 2000, batch: 500 } as const;

/**
 * Plays a {@link FleetSchedule} in real time: each message leaves when the clock reaches its simulated time (one
 * timer for the whole fleet, not one per device). The messages themselves never depend on when they leave.
 */
export class Simulation {
  private readonly opts: SimulationOptions;
  private readonly clock: Clock;
  private realStartMs = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private running = false;
  /** Waiting for acknowledgements before sending more. */
  private blocked = false;

  constructor(opts: SimulationOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  /** Simulated time now, epoch ms. */
  get nowMs(): number {
    return this.opts.schedule.startMs + (this.clock.now() - this.realStartMs);
  }

  start(): void {
    this.realStartMs = this.clock.now();
    this.running = true;
    this.tick();
  }

  /** Stops sending and waits (at most `drainMs`) for the messages in flight. */
  async stop(drainMs = 5000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    const until = Date.now() + drainMs;
    while (this.opts.stats.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.running) return;
    const { schedule, stats } = this.opts;
    const maxInFlight = this.opts.maxInFlight ?? DEFAULT_SIMULATION_OPTIONS.maxInFlight;
    const batch = this.opts.batch ?? DEFAULT_SIMULATION_OPTIONS.batch;
    const now = this.nowMs;
    let sent = 0;
    while (sent < batch) {
      if (stats.inFlight >= maxInFlight) {
        this.blocked = true;
        return; // resumed by the acknowledgement that frees a slot
      }
      const m = schedule.next(now);
      if (!m) break;
      sent++;
      this.send(m, now);
    }
    stats.suppressed = schedule.suppressed;
    if (sent === batch) {
      this.immediate = setImmediate(this.tick);
      return;
    }
    const at = schedule.peekAtMs();
    if (at === undefined) return;
    // Capped so a long idle gap still notices a stop quickly; at least 2 ms so busy fleets send in small batches.
    this.timer = setTimeout(this.tick, Math.min(1000, Math.max(2, at - now)));
  };

  private send(m: SimMessage, now: number): void {
    const { stats, transport } = this.opts;
    stats.lagMs = Math.max(0, now - m.atMs);
    this.opts.onMessage?.(m);
    stats.inFlight++;
    const ok = transport.publish(m, (err) => {
      stats.inFlight--;
      if (err) stats.failed(m.kind, err.message);
      else stats.acked(m.kind);
      if (this.blocked && this.running) {
        this.blocked = false;
        this.immediate = setImmediate(this.tick);
      }
    });
    if (!ok) {
      stats.inFlight--;
      stats.failed(m.kind, `${m.device.info.tenant}/${m.device.info.deviceId}: not connected`, true);
    }
  }
}
