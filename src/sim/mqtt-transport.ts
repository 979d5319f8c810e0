import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { SimMessage } from './schedule.js';
import type { SimDevice } from './sim-device.js';
import type { SimStats } from './sim-stats.js';

/** An MQTT login. */
export interface MqttLogin {
  username: string;
  password: string;
}

export interface MqttTransportOptions {
  brokerUrl: string;
  stats: SimStats;
  /**
   * Per-device logins: every device gets its own connection with client id = username, as real devices (and the
   * gateway's broker, which refuses other client ids for a device login) expect. Absent: pooled connections.
   */
  loginFor?: (device: SimDevice) => MqttLogin;
  /** Shared login of the pooled connections (an external broker's simulator account). Default anonymous. */
  login?: MqttLogin;
  /** Pooled connections, devices spread over them by index. Default 4. */
  connections?: number;
  /** CONNECTs in progress at once while per-device connections open. Default 32. */
  connectConcurrency?: number;
  /** Gives up on one CONNECT after this long, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Delay before reconnecting a dropped connection, ms. Default 2000. */
  reconnectPeriodMs?: number;
  /** Client id prefix of the pooled connections. Default `riskgate-sim-<pid>`. */
  clientIdPrefix?: string;
  /** Called as connections open (connected + failed so far). */
  onConnectProgress?: (done: number, total: number) => void;
}

/** Defaults of {@link MqttTransportOptions}: pooled connections, CONNECT concurrency, CONNECT timeout (ms), reconnect delay (ms). */
export const DEFAULT_MQTT_TRANSPORT_OPTIONS = { connections: 4, connectConcurrency: 32, connectTimeoutMs: 10_000, reconnectPeriodMs: 2000 } as const;

/** Opens the simulator's MQTT connections and publishes its messages at QoS 1, counting acks and failures. */
export class MqttTransport {
  private readonly opts: MqttTransportOptions;
  /** Per device (per-device logins) or per pool slot. */
  private clients: (MqttClient | undefined)[] = [];
  private perDevice = false;

  constructor(opts: MqttTransportOptions) {
    this.opts = opts;
  }

  /** Opens the connections; a login the broker refuses counts as a failed connection, not an exception. */
  async open(devices: readonly SimDevice[]): Promise<void> {
    const o = { ...DEFAULT_MQTT_TRANSPORT_OPTIONS, ...this.opts };
    const stats = o.stats;
    this.perDevice = o.loginFor !== undefined;
    const wanted = this.perDevice ? devices.length : Math.max(1, Math.min(o.connections, devices.length || 1));
    stats.connections.wanted = wanted;
    this.clients = new Array<MqttClient | undefined>(wanted);
    const prefix = o.clientIdPrefix ?? `riskgate-sim-${process.pid}`;
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < wanted) {
        const i = next++;
        const login = this.perDevice ? o.loginFor?.(devices[i] as SimDevice) : o.login;
        const clientId = this.perDevice ? (login?.username as string) : `${prefix}-${i}`;
        try {
          this.clients[i] = await this.connect({ clientId, username: login?.username, password: login?.password }, o.connectTimeoutMs, o.reconnectPeriodMs);
        } catch (err) {
          stats.connections.failed++;
          stats.lastError = `connect ${clientId}: ${(err as Error).message}`;
        }
        done++;
        o.onConnectProgress?.(done, wanted);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.connectConcurrency, wanted) }, worker));
    this.countConnected();
  }

  /** Updates `stats.connections.connected` (call about once a second). */
  countConnected(): void {
    let n = 0;
    for (const c of this.clients) if (c?.connected) n++;
    this.opts.stats.connections.connected = n;
  }

  /** Publishes one message; `done` gets the broker's answer. False when the device's connection is down (nothing sent). */
  publish(m: SimMessage, done: (err?: Error) => void): boolean {
    const slot = this.perDevice ? m.device.index : m.device.index % Math.max(1, this.clients.length);
    const c = this.clients[slot];
    if (!c?.connected) return false;
    c.publish(m.topic, JSON.stringify(m.payload), { qos: 1 }, (err) => done(err ?? undefined));
    return true;
  }

  async close(): Promise<void> {
    const clients = this.clients.filter((c): c is MqttClient => c !== undefined);
    this.clients = [];
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }

  private connect(opts: Pick<IClientOptions, 'clientId' | 'username' | 'password'>, timeoutMs: number, reconnectPeriod: number): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const c = mqtt.connect(this.opts.brokerUrl, { ...opts, clean: true, reconnectPeriod, connectTimeout: timeoutMs, protocolVersion: 4 });
      const fail = (err: Error): void => {
        clearTimeout(timer);
        c.removeAllListeners('connect');
        c.end(true);
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
      c.once('error', fail);
      c.once('connect', () => {
        clearTimeout(timer);
        c.off('error', fail);
        // Later errors (a dropped connection, a refused reconnect) are counted, never thrown.
        c.on('error', (err) => (this.opts.stats.lastError = `${opts.clientId}: ${err.message}`));
        resolve(c);
      });
    });
  }
}
