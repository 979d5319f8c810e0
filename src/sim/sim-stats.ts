import { KIND_NAMES, type KindName } from '../kinds/kind.js';

/** Counts of one device kind. */
export interface KindCounts {
  /** Messages the broker acknowledged (QoS 1 PUBACK). */
  sent: number;
  /** Messages that failed: publish error, or the device's connection was down. */
  errors: number;
}

/** A copy of the counters at one moment (for rates and the final summary). */
export interface StatsSnapshot {
  atMs: number;
  sent: number;
  errors: number;
  /** Of `errors`: not sent because the device's connection was down. */
  dropped: number;
  inFlight: number;
  /** How far behind its schedule the latest message left, ms. */
  lagMs: number;
  /** Readings a scenario suppressed (silent devices). */
  suppressed: number;
  connections: { wanted: number; connected: number; failed: number };
  perKind: Record<KindName, KindCounts>;
  lastError?: string;
}

/** The simulator's live counters, written by the runner and the transport, read by the progress display. */
export class SimStats {
  sent = 0;
  errors = 0;
  dropped = 0;
  inFlight = 0;
  lagMs = 0;
  suppressed = 0;
  readonly connections = { wanted: 0, connected: 0, failed: 0 };
  readonly perKind = Object.fromEntries(KIND_NAMES.map((k) => [k, { sent: 0, errors: 0 }])) as Record<KindName, KindCounts>;
  lastError?: string;

  acked(kind: KindName): void {
    this.sent++;
    this.perKind[kind].sent++;
  }

  failed(kind: KindName, reason: string, dropped = false): void {
    this.errors++;
    if (dropped) this.dropped++;
    this.perKind[kind].errors++;
    this.lastError = reason;
  }

  snapshot(atMs: number): StatsSnapshot {
    return {
      atMs,
      sent: this.sent,
      errors: this.errors,
      dropped: this.dropped,
      inFlight: this.inFlight,
      lagMs: this.lagMs,
      suppressed: this.suppressed,
      connections: { ...this.connections },
      perKind: Object.fromEntries(KIND_NAMES.map((k) => [k, { ...this.perKind[k] }])) as Record<KindName, KindCounts>,
      lastError: this.lastError,
    };
  }
}
