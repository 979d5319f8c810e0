import { join, resolve } from 'node:path';
import { buildTopic } from '../../src/ingest/mqtt/topics.js';
import type { PlannedMessage } from '../../src/loadtest/planned-message.js';
import type { FieldValue } from '../../src/pipeline/reading.js';
import type { Device, DeviceInput } from '../../src/registry/device-registry.js';
import type { TenantInput } from '../../src/registry/tenant-store.js';
import { loadSimFleet } from '../../src/sim/fleet-file.js';
import { loadModels } from '../../src/sim/models.js';
import { SimDevice } from '../../src/sim/sim-device.js';

// The stream every system of `npm run bench` gets: readings of N devices of all five kinds (gas, dust,
// electrical_fire, smoke, vehicle) taken from the city fleet (devices/fleets/city.yaml, 20 000 devices; sampled evenly
// below that, as bench/hot-path.ts `loadFleet` does) with the real sim models. Each device's `data` objects are
// generated up front — `variants` per device, deterministic (SimDevice seed 9, fixed sim times) — so publishing one
// costs a string concatenation: `{"ts":…,"seq":…,"data":<pre-generated>}`, device time = the time it is due.
//
// Alert crossings, as src/loadtest/synthetic-fleet.ts: every `alertEvery`-th reading of a gas detector (staggered
// over the devices) carries 30 %LEL — over gas.lel's 一级 set point, 25 — and its next reading falls back under the
// clear point (22). Outside crossings a gas reading is held under 20 %LEL, so the only transitions of the threshold
// (riskgate's gas.lel, the naive script's and Node-RED's ≥ 25 / < 22) are the injected ones.

const ROOT = resolve(import.meta.dirname, '../..');
const CITY_FLEET = join(ROOT, 'devices/fleets/city.yaml');

/** Options of {@link CityReplay}. */
export interface CityReplayOptions {
  /** Number of devices (all five kinds in the city fleet's proportions). Default 20 000. */
  devices?: number;
  /** One gas reading in this many per device crosses 25 %LEL (the next clears); 0 = never. Default 200. */
  alertEvery?: number;
  /** Pre-generated `data` objects per device, cycled. Default 6. */
  variants?: number;
}

export const DEFAULT_CITY_REPLAY_OPTIONS = { devices: 20_000, alertEvery: 200, variants: 6 } as const;

/** Over gas.lel's 一级 set point (25 %LEL), under 二级 (50): one alert level. */
export const CROSSING_LEL = 30;
/** Gas readings outside crossings are capped here (< the clear point 22, so they never raise nor keep anything raised). */
const CAP_LEL = 20;
/** The clearing reading's value. */
const CLEAR_TO_LEL = 5;

/** A registry record as a REGISTRY_SEED entry (the inverse of `deviceFromInput`). */
function toInput(d: Device): DeviceInput {
  const o: DeviceInput = { tenant: d.tenant, device_id: d.deviceId, kind: d.kind, heartbeat_s: d.heartbeatS, attrs: d.attrs };
  if (d.model !== undefined) o.model = d.model;
  if (d.region !== undefined) o.region = d.region;
  if (d.site !== undefined) o.site = d.site;
  if (d.location !== undefined) o.location = d.location;
  if (d.installedAt !== undefined) o.installed_at = d.installedAt;
  if (d.installer !== undefined) o.installer = d.installer;
  if (d.lat !== undefined) o.lat = d.lat;
  if (d.lon !== undefined) o.lon = d.lon;
  return o;
}

/** The city fleet's readings, pre-generated, played round-robin over the devices. */
export class CityReplay {
  readonly devices: Device[];
  readonly tenants: TenantInput[];
  private readonly topics: string[];
  /** Per device, its pre-generated `data` JSON texts. */
  private readonly data: string[][];
  /** Per gas device with `concentration_lel`: its crossing and clearing `data`; undefined for the others. */
  private readonly crossing: ({ over: string; under: string } | undefined)[];
  private readonly alertEvery: number;
  private counters: Uint32Array;
  private next = 0;

  constructor(opts: CityReplayOptions = {}) {
    const o: Required<CityReplayOptions> = { ...DEFAULT_CITY_REPLAY_OPTIONS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    if (!Number.isInteger(o.alertEvery) || o.alertEvery < 0 || o.alertEvery === 1) throw new RangeError(`alertEvery must be 0 or a whole number ≥ 2, got ${o.alertEvery}`);
    const models = loadModels(join(ROOT, 'devices/models'));
    if (!models.ok) throw new Error(`devices/models: ${JSON.stringify(models.problems.slice(0, 3))}`);
    const city = loadSimFleet(CITY_FLEET, models.models);
    if (!city.ok) throw new Error(`city fleet: ${JSON.stringify(city.problems.slice(0, 3))}`);
    const n = o.devices;
    if (!Number.isInteger(n) || n < 1 || n > city.profiles.length) throw new RangeError(`devices must be 1–${city.profiles.length}, got ${n}`);
    this.alertEvery = o.alertEvery;
    this.devices = [];
    this.topics = [];
    this.data = [];
    this.crossing = [];
    const clockMs = Date.now();
    const tenants = new Set<string>();
    for (let i = 0; i < n; i++) {
      const b = Math.floor((i * city.profiles.length) / n);
      const sim = new SimDevice(b, city.profiles[b] as SimDevice['profile'], 9);
      const d = sim.profile.device;
      this.devices.push(d);
      tenants.add(d.tenant);
      this.topics.push(buildTopic({ tenant: d.tenant, kind: d.kind, deviceId: d.deviceId, channel: 'telemetry' }));
      const variants: string[] = [];
      let lelValues: Record<string, FieldValue | string> | undefined;
      for (let v = 0; v < o.variants; v++) {
        const tS = v * 60 + (i % 60);
        const values = sim.data(tS, clockMs + tS * 1000) as Record<string, FieldValue | string>;
        if (typeof values.concentration_lel === 'number') {
          values.concentration_lel = Math.min(values.concentration_lel, CAP_LEL);
          lelValues ??= { ...values };
        }
        variants.push(JSON.stringify(values));
      }
      this.data.push(variants);
      this.crossing.push(
        lelValues && o.alertEvery > 0
          ? { over: JSON.stringify({ ...lelValues, concentration_lel: CROSSING_LEL }), under: JSON.stringify({ ...lelValues, concentration_lel: CLEAR_TO_LEL }) }
          : undefined,
      );
    }
    this.tenants = city.tenants.filter((t) => tenants.has(t.tenant));
    this.counters = new Uint32Array(n);
  }

  /** Devices per kind. */
  kinds(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.devices) out[d.kind] = (out[d.kind] ?? 0) + 1;
    return out;
  }

  /** The REGISTRY_SEED document (src/registry/seed.ts) registering exactly these devices and their tenants. */
  seed(): { name: string; description: string; tenants: TenantInput[]; devices: DeviceInput[] } {
    return { name: 'riskgate-bench', description: `npm run bench: ${this.devices.length} devices of the city fleet`, tenants: this.tenants, devices: this.devices.map(toInput) };
  }

  /** Starts every device's counter over (each system gets the same sequence). */
  reset(): void {
    this.counters = new Uint32Array(this.devices.length);
    this.next = 0;
  }

  /** The next device's next reading, due at `sendAtMs` (also its device time, rounded to ms). */
  message(sendAtMs: number): PlannedMessage {
    const d = this.next;
    this.next = d + 1 === this.devices.length ? 0 : d + 1;
    const i = this.counters[d] as number;
    this.counters[d] = i + 1;
    const ts = Math.round(sendAtMs);
    const cross = this.crossing[d];
    // Staggered per device: device d crosses at its reading (every − d mod every), then every `every` readings.
    const phase = cross ? (i + d) % this.alertEvery : -1;
    const track = phase === 0 || (phase === 1 && i > 0);
    const variants = this.data[d] as string[];
    const data = phase === 0 ? (cross as { over: string }).over : track ? (cross as { under: string }).under : (variants[i % variants.length] as string);
    const dev = this.devices[d] as Device;
    return { sendAtMs, topic: this.topics[d] as string, payload: `{"ts":${ts},"seq":${i + 1},"data":${data}}`, tenant: dev.tenant, deviceId: dev.deviceId, readingTs: [ts], track };
  }

  /** `ratePerS` messages a second from `startMs` for `durationMs` (exclusive), evenly spaced. */
  *messages(startMs: number, ratePerS: number, durationMs: number): Generator<PlannedMessage> {
    if (!(ratePerS > 0)) throw new RangeError(`rate must be > 0, got ${ratePerS}`);
    const n = Math.floor((durationMs * ratePerS) / 1000);
    for (let k = 0; k < n; k++) yield this.message(startMs + (k * 1000) / ratePerS);
  }

  /** Mean payload size of one pass over the devices, bytes (the counters are left as they were). */
  meanPayloadBytes(): number {
    let bytes = 0;
    for (let d = 0; d < this.devices.length; d++) bytes += Buffer.byteLength(`{"ts":${Date.now()},"seq":1,"data":${(this.data[d] as string[])[0]}}`);
    return Math.round(bytes / this.devices.length);
  }
}
