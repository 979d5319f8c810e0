import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { buildTopic } from '../ingest/mqtt/topics.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { FleetDevice } from '../registry/seed.js';
import { SIGNAL_SCHEMA, hashSeed, prng, signalValue, type Signal } from './signal.js';

type FieldSpec = Signal | string | number | boolean | FieldSpec[] | { [k: string]: FieldSpec };
const FIELD_SPEC: z.ZodType<FieldSpec> = z.lazy(() =>
  z.union([SIGNAL_SCHEMA, z.string(), z.number(), z.boolean(), z.array(FIELD_SPEC), z.record(z.string(), FIELD_SPEC)]),
);

/** The `sim:` block of a fleet device. */
export const SIM_PROFILE_SCHEMA = z.strictObject({
  /** Seconds between readings. Default 5. */
  interval_s: z.number().min(0.05).max(86_400).default(5),
  /** Field name → constant or signal; arrays and objects build `temp_c: [...]` and `current_a: {a, b, c}`. */
  fields: z.record(z.string(), FIELD_SPEC),
  /** Vehicles: a polyline of [lat, lon] the vehicle drives along (looping) at its `speed_kmh`. */
  route: z.array(z.tuple([z.number(), z.number()])).min(2).optional(),
});
export type SimProfile = z.output<typeof SIM_PROFILE_SCHEMA>;

interface SimDevice {
  fleet: FleetDevice;
  profile: SimProfile;
  rand: () => number;
  topic: string;
  /** Its own connection when the fleet has per-device credentials. */
  client?: MqttClient;
  timer?: NodeJS.Timeout;
  /** Distance driven along the route, metres. */
  odometerM: number;
  lastTickMs?: number;
}

export interface FleetSimulatorOptions {
  devices: FleetDevice[];
  brokerUrl: string;
  logger: Logger;
  clock: Clock;
  /** Seed of every device's noise. Default 1. */
  seed?: number;
  /**
   * Per-device MQTT credentials, called once per simulated device at start: each device then has its own connection
   * (client id = username), as real devices do. Absent: one anonymous connection for the whole fleet.
   */
  credentialsFor?: (device: FleetDevice['device']) => { username: string; password: string };
}

/** Publishes readings of every fleet device that has a `sim:` profile, over MQTT, like real devices would. */
export class FleetSimulator {
  private readonly opts: FleetSimulatorOptions;
  private readonly devices: SimDevice[] = [];
  private client?: MqttClient;
  private startedAt = 0;
  published = 0;

  constructor(opts: FleetSimulatorOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    for (const fd of this.opts.devices) {
      if (fd.sim === undefined) continue;
      const parsed = SIM_PROFILE_SCHEMA.safeParse(fd.sim);
      if (!parsed.success) {
        throw new Error(`sim profile of ${fd.device.tenant}/${fd.device.deviceId}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      const d = fd.device;
      this.devices.push({
        fleet: fd,
        profile: parsed.data,
        rand: prng(hashSeed(`${this.opts.seed ?? 1}/${d.tenant}/${d.deviceId}`)),
        topic: buildTopic({ tenant: d.tenant, kind: d.kind, deviceId: d.deviceId, channel: 'telemetry' }),
        odometerM: 0,
      });
    }
    const credentialsFor = this.opts.credentialsFor;
    if (credentialsFor) {
      await Promise.all(
        this.devices.map(async (d) => {
          const { username, password } = credentialsFor(d.fleet.device);
          d.client = await mqtt.connectAsync(this.opts.brokerUrl, { clientId: username, username, password, clean: true, reconnectPeriod: 1000 });
        }),
      );
    } else {
      this.client = await mqtt.connectAsync(this.opts.brokerUrl, { clientId: `riskgate-sim-${process.pid}`, clean: true, reconnectPeriod: 1000 });
    }
    this.startedAt = this.opts.clock.now();
    for (const [i, d] of this.devices.entries()) {
      const everyMs = d.profile.interval_s * 1000;
      // Spread first reports over the first interval so the fleet does not publish in lock-step.
      const first = Math.round((everyMs * i) / Math.max(1, this.devices.length));
      d.timer = setTimeout(() => {
        this.tick(d);
        d.timer = setInterval(() => this.tick(d), everyMs);
      }, first);
    }
    this.opts.logger.info({ devices: this.devices.length, broker: this.opts.brokerUrl }, 'simulated fleet started');
  }

  /** One reading of one device. */
  payloadFor(d: SimDevice, nowMs: number): Record<string, unknown> {
    const tS = (nowMs - this.startedAt) / 1000;
    const build = (spec: FieldSpec): unknown => {
      if (typeof spec !== 'object') return spec;
      if (Array.isArray(spec)) return spec.map(build);
      if ('base' in spec && typeof spec.base === 'number') return signalValue(spec as Signal, tS, nowMs, d.rand);
      return Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, build(v as FieldSpec)]));
    };
    const data = build(d.profile.fields as FieldSpec) as Record<string, unknown>;
    if (d.profile.route) Object.assign(data, this.move(d, nowMs, typeof data.speed_kmh === 'number' ? data.speed_kmh : 0));
    return { ts: nowMs, data };
  }

  private move(d: SimDevice, nowMs: number, speedKmh: number): Record<string, number | boolean> {
    const route = d.profile.route as [number, number][];
    const dtS = d.lastTickMs === undefined ? 0 : (nowMs - d.lastTickMs) / 1000;
    d.lastTickMs = nowMs;
    d.odometerM += (speedKmh / 3.6) * dtS;
    const legs = route.map((p, i) => [p, route[(i + 1) % route.length] as [number, number]] as const);
    const lengths = legs.map(([a, b]) => metres(a, b));
    const total = lengths.reduce((s, x) => s + x, 0) || 1;
    let along = d.odometerM % total;
    for (const [i, [a, b]] of legs.entries()) {
      const len = lengths[i] as number;
      if (along <= len || i === legs.length - 1) {
        const f = len === 0 ? 0 : along / len;
        const lat = a[0] + (b[0] - a[0]) * f;
        const lon = a[1] + (b[1] - a[1]) * f;
        const heading = (Math.round((Math.atan2((b[1] - a[1]) * Math.cos((a[0] * Math.PI) / 180), b[0] - a[0]) * 180) / Math.PI) + 360) % 360;
        return { lat: round(lat, 6), lon: round(lon, 6), heading_deg: heading, mileage_km: round(d.odometerM / 1000, 1), located: true, acc_on: true };
      }
      along -= len;
    }
    return {};
  }

  private tick(d: SimDevice): void {
    const client = d.client ?? this.client;
    if (!client?.connected) return;
    const payload = this.payloadFor(d, this.opts.clock.now());
    client.publish(d.topic, JSON.stringify(payload), { qos: 1 }, (err) => {
      if (err) this.opts.logger.debug({ err: err.message, topic: d.topic }, 'simulated publish failed');
    });
    this.published++;
  }

  async stop(): Promise<void> {
    for (const d of this.devices) {
      if (d.timer) clearTimeout(d.timer);
      if (d.timer) clearInterval(d.timer);
    }
    const clients = [this.client, ...this.devices.map((d) => d.client)].filter((c): c is MqttClient => c !== undefined);
    this.client = undefined;
    for (const d of this.devices) d.client = undefined;
    await Promise.all(clients.map((c) => c.endAsync()));
  }
}

function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

/** Equirectangular distance, metres: plenty for route legs of a few km. */
function metres(a: readonly [number, number], b: readonly [number, number]): number {
  const k = Math.PI / 180;
  const x = (b[1] - a[1]) * k * Math.cos(((a[0] + b[0]) / 2) * k);
  const y = (b[0] - a[0]) * k;
  return Math.sqrt(x * x + y * y) * 6_371_000;
}
