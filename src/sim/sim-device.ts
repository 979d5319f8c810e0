import { buildTopic } from '../ingest/mqtt/topics.js';
import { evaluate, resolveSpec, type FieldNode } from './field-spec.js';
import { hashSeed, prng } from './signal.js';
import type { SimProfile } from './profile.js';
import { Route, RouteDriver } from './route.js';
import type { ScenarioDevice } from './scenario-hook.js';

/** JT/T 808-2019 状态位 bit22: 行驶 (moving) — domain.md §5.5. */
const STATUS_MOVING = 1 << 22;
/** bit0: ACC 开 (ignition on). */
const STATUS_ACC_ON = 1;

/** The `{ ts, seq, data }` envelope of one reading (README "Wire contract"). */
export interface SimPayload {
  ts: number;
  seq: number;
  data: Record<string, unknown>;
}

const round = (v: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(v * f) / f + 0;
};

/** How a scenario sees the device of `profile`, the `index`-th simulated device. */
export function scenarioDevice(profile: SimProfile, index: number): ScenarioDevice {
  const d = profile.device;
  return { index, tenant: d.tenant, deviceId: d.deviceId, kind: d.kind, model: d.model, region: d.region, site: d.site, attrs: d.attrs };
}

/**
 * One simulated device at run time: its per-device draws made, its PRNG streams, signal memory and route position.
 * Streams are split by purpose (setup, values, timing, scenario) so that one consumer never shifts another's draws.
 */
export class SimDevice {
  readonly index: number;
  readonly profile: SimProfile;
  readonly topic: string;
  readonly info: ScenarioDevice;
  /** Noise of the field values. */
  readonly values: () => number;
  /** Phase and interval jitter. */
  readonly timing: () => number;
  /** Handed to a scenario. */
  readonly scenarioRand: () => number;
  private readonly fields: [string, FieldNode][];
  private readonly driver?: RouteDriver;
  seq = 0;

  constructor(index: number, profile: SimProfile, seed: number) {
    const d = profile.device;
    this.index = index;
    this.profile = profile;
    this.topic = buildTopic({ tenant: d.tenant, kind: d.kind, deviceId: d.deviceId, channel: 'telemetry' });
    this.info = scenarioDevice(profile, index);
    const key = `${seed}/${d.tenant}/${d.deviceId}`;
    const setup = prng(hashSeed(`${key}/setup`));
    // The values stream keeps the seed formula of the first simulator.
    this.values = prng(hashSeed(key));
    this.timing = prng(hashSeed(`${key}/timing`));
    this.scenarioRand = prng(hashSeed(`${key}/scenario`));
    this.fields = Object.entries(profile.fields).map(([k, spec]) => [k, resolveSpec(spec, setup)]);
    if (profile.route) {
      const route = new Route(profile.route);
      const odo = profile.drive.odometer_km;
      this.driver = new RouteDriver(route, {
        startAlongM: setup() * route.lapM,
        odometerKm: typeof odo === 'number' ? odo : odo[0] + (odo[1] - odo[0]) * setup(),
        dwellS: profile.drive.dwell_s,
        hours: profile.drive.hours,
      });
    }
  }

  /** The data of a reading at simulated time `nowMs`, `tS` seconds into the run. */
  data(tS: number, nowMs: number): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const [k, node] of this.fields) data[k] = evaluate(node, tS, nowMs, this.values);
    if (this.driver) {
      const m = this.driver.step(nowMs, typeof data.speed_kmh === 'number' ? data.speed_kmh : 0);
      if ('speed_kmh' in data) data.speed_kmh = round(m.speedKmh, 1);
      data.lat = round(m.lat, 6);
      data.lon = round(m.lon, 6);
      // JT/T 808 §5.3: integer 0–359.
      data.heading_deg = Math.round(m.headingDeg) % 360;
      data.mileage_km = round(m.mileageKm, 1);
      if (typeof data.status_bits === 'number') {
        let bits = m.moving ? data.status_bits | STATUS_MOVING : data.status_bits & ~STATUS_MOVING;
        if (!m.accOn) bits &= ~STATUS_ACC_ON;
        data.status_bits = bits >>> 0;
      }
    }
    return data;
  }
}
