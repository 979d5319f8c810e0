import type { DeviceInput } from '../registry/device-registry.js';
import type { ExpectedAlert } from './expected-alerts.js';
import type { PlannedMessage } from './planned-message.js';

// A generated fleet of gas detectors for load: ~200-byte readings (the size of a real detector's report, README
// "Example payloads"), round-robin over the devices at a set rate, device time = the time it is due. Every
// `alertEvery`-th reading of a device crosses gas.lel's 一级 set point (25 %LEL, GB/T 50493-2019 §5.5) and the next
// falls back below its clear point (22): one alert raised or reactivated, then cleared, each an expected event whose
// latency the run measures. The crossings of the devices are staggered so that alerts arrive evenly.

/** Options of {@link SyntheticFleet}. */
export interface SyntheticFleetOptions {
  /** Number of devices. Default 1000. */
  devices?: number;
  /** Their tenant. Default `loadtest`. */
  tenant?: string;
  /** Their region (GB/T 2260). Default `510104` (成都市锦江区). */
  region?: string;
  /** Device ids are this plus a zero-padded index. Default `lt-gas-`. */
  idPrefix?: string;
  /** One reading in this many per device crosses the alert threshold; 0 = never. Default 500. */
  alertEvery?: number;
}

export const DEFAULT_SYNTHETIC_FLEET_OPTIONS = { devices: 1000, tenant: 'loadtest', region: '510104', idPrefix: 'lt-gas-', alertEvery: 500 } as const;

/** A value over gas.lel's 一级 set point (25 %LEL) and under 二级 (50), so exactly one alert level is reached. */
export const CROSSING_LEL = 30;
/** gas.lel's 一级 set point, %LEL (alert-rules/gas.yaml). */
export const THRESHOLD_LEL = 25;
/** gas.lel's 一级 clear point, %LEL: a reading below it clears the alert. */
export const CLEAR_LEL = 22;

/** Generates the fleet's readings; keeps each device's counter across calls, so phases of a run continue it. */
export class SyntheticFleet {
  /** Alert events the readings generated so far must cause, in order. */
  readonly expected: ExpectedAlert[] = [];
  readonly deviceIds: string[];
  private readonly o: Required<SyntheticFleetOptions>;
  private readonly counters: number[];
  private next = 0;

  constructor(opts: SyntheticFleetOptions = {}) {
    this.o = { ...DEFAULT_SYNTHETIC_FLEET_OPTIONS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    if (!Number.isInteger(this.o.devices) || this.o.devices < 1) throw new RangeError(`devices must be a whole number ≥ 1, got ${this.o.devices}`);
    if (!Number.isInteger(this.o.alertEvery) || this.o.alertEvery < 0 || this.o.alertEvery === 1) throw new RangeError(`alertEvery must be 0 or a whole number ≥ 2, got ${this.o.alertEvery}`);
    const width = String(this.o.devices - 1).length;
    this.deviceIds = Array.from({ length: this.o.devices }, (_, i) => `${this.o.idPrefix}${String(i).padStart(Math.max(4, width), '0')}`);
    this.counters = this.deviceIds.map(() => 0);
  }

  get tenant(): string {
    return this.o.tenant;
  }

  /** The devices as REGISTRY_SEED entries. */
  seedDevices(): DeviceInput[] {
    return this.deviceIds.map((device_id) => ({ tenant: this.o.tenant, device_id, kind: 'gas', region: this.o.region, heartbeat_s: 60, model: 'loadtest' }));
  }

  /** The next device's next reading, due at `sendAtMs` (also its device time, rounded to ms). */
  message(sendAtMs: number): PlannedMessage {
    const d = this.next;
    this.next = (d + 1) % this.deviceIds.length;
    const i = this.counters[d] as number;
    this.counters[d] = i + 1;
    const deviceId = this.deviceIds[d] as string;
    const ts = Math.round(sendAtMs);
    const every = this.o.alertEvery;
    // Staggered per device: device d crosses at its reading (every − d mod every), then every `every` readings.
    const phase = every > 0 ? (i + d) % every : -1;
    const crossing = phase === 0;
    const clearing = phase === 1 && i > 0;
    const device = `${this.o.tenant}/${deviceId}`;
    if (crossing) this.expected.push({ device, events: ['raised', 'reactivated'], rule: 'gas.lel', level: 3 });
    if (clearing) this.expected.push({ device, events: ['cleared'], rule: 'gas.lel', level: 3 });
    // 2.0–16.9 %LEL otherwise: below the clear point, so nothing else fires; varies so the store compresses nothing away.
    const lel = crossing ? CROSSING_LEL : 2 + ((i * 37 + d * 11) % 150) / 10;
    const payload =
      `{"ts":${ts},"seq":${i + 1},"data":{"gas_type":"CH4","concentration_lel":${lel},"set_low":25,"set_high":50,` +
      `"sensor_fault":false,"valve_state":"open","fan_state":"off","power_source":"mains","battery_pct":${90 + (i % 10)},"rsrp_dbm":${-80 - (d % 40)}}}`;
    return { sendAtMs, topic: `rg/v1/${this.o.tenant}/gas/${deviceId}/telemetry`, payload, tenant: this.o.tenant, deviceId, readingTs: [ts], track: crossing || clearing };
  }

  /** `ratePerS` messages a second from `startMs` for `durationMs` (exclusive), evenly spaced. */
  *messages(startMs: number, ratePerS: number, durationMs: number): Generator<PlannedMessage> {
    if (!(ratePerS > 0)) throw new RangeError(`rate must be > 0, got ${ratePerS}`);
    const n = Math.floor((durationMs * ratePerS) / 1000);
    for (let k = 0; k < n; k++) yield this.message(startMs + (k * 1000) / ratePerS);
  }
}
