import type { AlertEvent, AlertEventType } from '../../../src/alerts/alert.js';
import type { FieldValue } from '../../../src/pipeline/reading.js';
import type { Device } from '../../../src/registry/device-registry.js';
import type { AlertLevel } from '../../../src/rules/types.js';
import type { EngineHarness } from '../../helpers/engine-harness.js';

/** What one reading carries: numeric / boolean fields and string tags (the payload's enums, e.g. `valve_state`). */
export interface Sample {
  f: Record<string, FieldValue>;
  t?: Record<string, string>;
}

/** One alert event as the scenarios assert it. */
export type EventRow = [type: AlertEventType, ruleId: string, level: AlertLevel];

/** A device that reports on its own period in the background, so the gateway never looks stalled. */
export interface Background {
  device: Device;
  everyMs: number;
  sample: Sample;
}

/** Epoch ms of a Beijing wall-clock time (UTC+8, no DST): what a Chinese device's zone-less timestamp means. */
export function beijing(year: number, month: number, day: number, hour: number, minute: number, second = 0): number {
  return Date.UTC(year, month - 1, day, hour - 8, minute, second);
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/**
 * Drives an engine harness through a device trace in gateway time: every reading is fed with device time = the
 * clock (so it is evaluated live, not as history), and time passes through `advance` so the engine ticks (offline,
 * flapping end, escalation). Background devices report while time passes.
 */
export class Trace {
  readonly h: EngineHarness;
  private readonly background: { b: Background; nextAt: number }[];

  constructor(h: EngineHarness, background: Background[] = []) {
    this.h = h;
    this.background = background.map((b) => ({ b, nextAt: h.clock.now() }));
    this.feedBackground();
  }

  get now(): number {
    return this.h.clock.now();
  }

  /** One reading of `device` now. */
  send(device: Device, s: Sample): void {
    this.h.feed(device, s.f, { ts: this.now, tags: s.t });
  }

  /** Lets `ms` of gateway time pass, ticking the engine every `tickMs`. */
  wait(ms: number, tickMs = SECOND): void {
    for (let left = ms; left > 0; ) {
      const step = Math.min(tickMs, left);
      this.h.advance(step, step);
      left -= step;
      this.feedBackground();
    }
  }

  /**
   * `device` reports every `everyMs` for `durationMs` (reading first, then the wait), `at(elapsedMs, i)` giving
   * each reading. Returns the number of readings sent.
   */
  every(device: Device, everyMs: number, durationMs: number, at: (elapsedMs: number, i: number) => Sample, tickMs = Math.min(everyMs, SECOND)): number {
    let i = 0;
    for (let elapsed = 0; elapsed < durationMs; elapsed += everyMs, i++) {
      this.send(device, at(elapsed, i));
      this.wait(everyMs, tickMs);
    }
    return i;
  }

  /** The events of one device, as (type, rule, level), in publishing order. */
  rows(deviceId: string): EventRow[] {
    return this.eventsOf(deviceId).map((e) => [e.type, e.alert.rule_id, e.alert.level]);
  }

  eventsOf(deviceId: string): AlertEvent[] {
    return this.h.events.filter((e) => e.alert.device_id === deviceId);
  }

  /** The id of the alert the `n`-th (0-based) `raised` event of `ruleId` on `deviceId` opened. */
  alertId(deviceId: string, ruleId: string, n = 0): number {
    const raised = this.eventsOf(deviceId).filter((e) => e.type === 'raised' && e.alert.rule_id === ruleId);
    const ev = raised[n];
    if (!ev) throw new Error(`no raised event #${n} of ${ruleId} on ${deviceId}`);
    return ev.alert_id;
  }

  private feedBackground(): void {
    for (const bg of this.background) {
      while (bg.nextAt <= this.now) {
        this.h.feed(bg.b.device, bg.b.sample.f, { ts: this.now, tags: bg.b.sample.t });
        bg.nextAt += bg.b.everyMs;
      }
    }
  }
}
