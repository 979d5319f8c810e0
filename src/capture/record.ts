import { createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createGzip, gzipSync, type Gzip } from 'node:zlib';
import mqtt, { type MqttClient } from 'mqtt';
import { parseTopic } from '../ingest/mqtt/topics.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { CAPTURE_FORMAT, encodePayload, type CaptureDevice, type CaptureHeader, type CaptureMessage } from './capture-format.js';

/** Options of a {@link CaptureRecorder}. */
export interface RecorderOptions {
  /** `mqtt://host:port`; credentials in the URL are never written to the capture. */
  brokerUrl: string;
  /** Topic filter, e.g. `rg/v1/#`. Subscribed with QoS 1. */
  topic: string;
  /** The capture file to write (gzipped JSON lines). */
  outPath: string;
  username?: string;
  password?: string;
  /** Default `rg-record-<random>`. */
  clientId?: string;
  /** Written to the header; default `unspecified` (a recording of devices whose data terms we do not know). */
  licence?: string;
  attribution?: string;
  clock?: Clock;
  /** Called after each message is written, with the count so far. */
  onMessage?: (count: number) => void;
}

/** What a recording wrote. */
export interface RecordResult {
  path: string;
  messages: number;
  devices: CaptureDevice[];
  durationMs: number;
}

/** Heartbeat given to a device seen fewer than twice, s (the registry's default). */
const DEFAULT_HEARTBEAT_S = 60;

/**
 * Records every message on a topic filter into a capture. `start()` resolves once the subscription is granted, so a
 * caller may publish right after it; `stop()` writes the header (devices seen on well-formed topics, for a replay's
 * REGISTRY_SEED) in front of the messages. Messages go to a gzip member on disk as they arrive (nothing grows in
 * memory); the header becomes a first member of its own, which gunzip and `zcat` read as one stream.
 */
export class CaptureRecorder {
  private readonly opts: RecorderOptions;
  private readonly clock: Clock;
  private client?: MqttClient;
  private gzip?: Gzip;
  private file?: WriteStream;
  private startedAt = 0;
  private lastT = 0;
  private count = 0;
  private readonly seen = new Map<string, { device: CaptureDevice; first: number; last: number; n: number }>();

  constructor(opts: RecorderOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  private get bodyPath(): string {
    return `${this.opts.outPath}.${process.pid}.body.gz`;
  }

  /** Messages recorded so far. */
  get messages(): number {
    return this.count;
  }

  async start(): Promise<void> {
    this.file = createWriteStream(this.bodyPath);
    this.gzip = createGzip();
    this.gzip.pipe(this.file);
    try {
      await this.subscribe();
    } catch (err) {
      // Nothing recorded: no capture file, and no temporary body left behind.
      await this.client?.endAsync(true);
      this.client = undefined;
      const closed = once(this.file, 'close');
      this.gzip.end();
      await closed;
      await rm(this.bodyPath, { force: true });
      this.gzip = undefined;
      this.file = undefined;
      throw err;
    }
  }

  private async subscribe(): Promise<void> {
    this.client = await mqtt.connectAsync(this.opts.brokerUrl, {
      clientId: this.opts.clientId ?? `rg-record-${Math.random().toString(36).slice(2, 10)}`,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      connectTimeout: 10_000,
    }, false); // fail at once when the broker cannot be reached
    this.startedAt = this.clock.now();
    this.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    const granted = await this.client.subscribeAsync(this.opts.topic, { qos: 1 });
    // [MQTT-3.9.3] return code 0x80: the broker refused the subscription (ACL).
    if (granted.some((g) => g.qos === 128)) throw new Error(`the broker refused the subscription to ${this.opts.topic}`);
  }

  private onMessage(topic: string, payload: Buffer, retain: boolean): void {
    // A clock stepping back must not break the capture's time order.
    const t = Math.max(this.lastT, this.clock.now() - this.startedAt);
    this.lastT = t;
    const line: CaptureMessage = { t, topic, ...encodePayload(payload), ...(retain ? { retain: true } : {}) };
    this.gzip?.write(`${JSON.stringify(line)}\n`);
    this.count++;
    this.noteDevice(topic, t);
    this.opts.onMessage?.(this.count);
  }

  private noteDevice(topic: string, t: number): void {
    const parsed = parseTopic(topic);
    if (!parsed.ok) return;
    const { tenant, deviceId, kind } = parsed.topic;
    const key = `${tenant}/${deviceId}`;
    const s = this.seen.get(key);
    if (s) {
      s.last = t;
      s.n++;
    } else {
      this.seen.set(key, { device: { tenant, device_id: deviceId, kind, heartbeat_s: DEFAULT_HEARTBEAT_S, attrs: {} }, first: t, last: t, n: 1 });
    }
  }

  /** Unsubscribes, then writes the capture file (header first) and removes the temporary body. */
  async stop(): Promise<RecordResult> {
    const durationMs = this.clock.now() - this.startedAt;
    if (this.client) await this.client.endAsync();
    this.client = undefined;
    if (this.gzip && this.file) {
      const closed = once(this.file, 'close');
      this.gzip.end();
      await closed;
    }
    const devices = [...this.seen.values()].map((s) => ({
      ...s.device,
      // The mean interval seen, so a replay's offline rules expect what the recording showed.
      heartbeat_s: s.n >= 2 ? Math.min(7 * 86_400, Math.max(1, Math.ceil((s.last - s.first) / (s.n - 1) / 1000))) : DEFAULT_HEARTBEAT_S,
    }));
    const header: CaptureHeader = {
      format: CAPTURE_FORMAT,
      source: `mqtt ${redact(this.opts.brokerUrl)} ${this.opts.topic}`,
      licence: this.opts.licence ?? 'unspecified',
      attribution: this.opts.attribution ?? '',
      devices,
      created_by: 'riskgate record',
      start_ts: this.startedAt,
    };
    const tmp = `${this.opts.outPath}.${process.pid}.tmp`;
    await writeFile(tmp, gzipSync(`${JSON.stringify(header)}\n`));
    await appendFile(tmp, await readFile(this.bodyPath));
    await rename(tmp, this.opts.outPath);
    await rm(this.bodyPath, { force: true });
    return { path: this.opts.outPath, messages: this.count, devices, durationMs };
  }
}

/** The broker URL without user info. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
