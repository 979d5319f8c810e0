import { existsSync } from 'node:fs';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { FleetDevice } from '../registry/seed.js';
import { DEFAULT_MODELS_DIR, loadModels, type ModelCatalog } from './models.js';
import { MqttTransport } from './mqtt-transport.js';
import { resolveProfile, type SimProfile } from './profile.js';
import { FleetSchedule } from './schedule.js';
import { SimStats } from './sim-stats.js';
import { Simulation } from './simulation.js';

export interface FleetSimulatorOptions {
  devices: FleetDevice[];
  brokerUrl: string;
  logger: Logger;
  clock: Clock;
  /** Seed of every device's draws. Default 1. */
  seed?: number;
  /**
   * Per-device MQTT credentials, called once per simulated device at start: each device then has its own connection
   * (client id = username), as real devices do. Absent: one anonymous connection for the whole fleet.
   */
  credentialsFor?: (device: FleetDevice['device']) => { username: string; password: string };
  /** Device models for devices that name one. Default: devices/models under the working directory, when present. */
  models?: ModelCatalog;
}

/**
 * The gateway's built-in simulated fleet (`SIM_FLEET`, `npm start`): publishes readings of every fleet device that has
 * a `sim:` block or a known model, over MQTT, like real devices would. `riskgate simulate` runs the same engine
 * standalone with more options (src/cli/simulate-command.ts).
 */
export class FleetSimulator {
  private readonly opts: FleetSimulatorOptions;
  private readonly stats = new SimStats();
  private transport?: MqttTransport;
  private simulation?: Simulation;

  constructor(opts: FleetSimulatorOptions) {
    this.opts = opts;
  }

  /** Messages acknowledged by the broker so far. */
  get published(): number {
    return this.stats.sent;
  }

  async start(): Promise<void> {
    const models = this.opts.models ?? this.defaultModels();
    const profiles: SimProfile[] = [];
    for (const fd of this.opts.devices) {
      const res = resolveProfile(fd.device, fd.sim, models);
      if (res.issues.length > 0) {
        throw new Error(`sim profile of ${fd.device.tenant}/${fd.device.deviceId}: ${res.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      if (res.profile) profiles.push(res.profile);
    }
    const schedule = new FleetSchedule({ profiles, seed: this.opts.seed ?? 1, startMs: this.opts.clock.now() });
    const credentialsFor = this.opts.credentialsFor;
    this.transport = new MqttTransport({
      brokerUrl: this.opts.brokerUrl,
      stats: this.stats,
      loginFor: credentialsFor ? (d) => credentialsFor(d.profile.device) : undefined,
      connections: 1,
      reconnectPeriodMs: 1000,
    });
    await this.transport.open(schedule.devices);
    if (this.stats.connections.failed > 0) this.opts.logger.warn({ failed: this.stats.connections.failed, error: this.stats.lastError }, 'simulated devices could not connect');
    this.simulation = new Simulation({ schedule, transport: this.transport, stats: this.stats, clock: this.opts.clock });
    this.simulation.start();
    this.opts.logger.info({ devices: profiles.length, broker: this.opts.brokerUrl }, 'simulated fleet started');
  }

  async stop(): Promise<void> {
    await this.simulation?.stop(1000);
    this.simulation = undefined;
    await this.transport?.close();
    this.transport = undefined;
  }

  private defaultModels(): ModelCatalog {
    if (!existsSync(DEFAULT_MODELS_DIR)) return new Map();
    const res = loadModels(DEFAULT_MODELS_DIR);
    if (res.ok) return res.models;
    this.opts.logger.warn({ problems: res.problems.length, first: res.problems[0] }, 'device models not loaded; only devices with their own sim: blocks are simulated');
    return new Map();
  }
}
