import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../lib/logger.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { INGEST_SUBSCRIPTION } from './topics.js';

export interface MqttIngestOptions {
  url: string;
  /** Stable client id: with clean = false the broker keeps our QoS 1 queue while we are away. */
  clientId: string;
  username?: string;
  password?: string;
  /** Delay before a reconnect attempt, ms. Default 1000. */
  reconnectPeriodMs?: number;
  logger: Logger;
}

/**
 * The gateway's MQTT subscriber: QoS 1 on `rg/v1/#`, persistent session, every message into the pipeline.
 */
export class MqttIngest {
  private readonly opts: MqttIngestOptions;
  private readonly pipeline: Pipeline;
  private client?: MqttClient;
  private subscribed = false;

  constructor(opts: MqttIngestOptions, pipeline: Pipeline) {
    this.opts = opts;
    this.pipeline = pipeline;
  }

  /** Connects and subscribes; resolves once subscribed (or rejects on the first connection error). */
  async start(): Promise<void> {
    const log = this.opts.logger;
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId,
      clean: false,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      username: this.opts.username,
      password: this.opts.password,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      // The pipeline turns every bad message into a counted reject; should it ever throw, the error must not escape
      // into mqtt.js: that stalls the ingest, or crashes the process and the redelivered QoS 1 message crashes it again.
      try {
        this.pipeline.ingestMqtt(topic, payload);
      } catch (err) {
        log.error({ err, topic: topic.slice(0, 200), bytes: payload.length }, 'pipeline failed on an MQTT message; dead-lettered');
        this.pipeline.internalFailure(topic, payload, err);
      }
    });
    client.on('connect', (connack) => {
      // ARCHITECTURE.md: small readings must not wait for delayed ACKs (Nagle).
      (client.stream as Partial<Socket>).setNoDelay?.(true);
      log.info({ url: this.opts.url, clientId: this.opts.clientId, sessionPresent: connack.sessionPresent }, 'ingest connected to MQTT broker');
      client.subscribe(INGEST_SUBSCRIPTION, { qos: 1 }, (err, granted) => {
        if (err || !granted || granted.some((g) => g.qos > 2)) {
          log.error({ err: err?.message, granted }, 'ingest subscription refused');
          this.subscribed = false;
          return;
        }
        this.subscribed = true;
        log.info({ topic: INGEST_SUBSCRIPTION, qos: 1 }, 'ingest subscribed');
      });
    });
    client.on('close', () => {
      if (this.subscribed) log.warn({ url: this.opts.url }, 'ingest lost the MQTT connection; reconnecting');
      this.subscribed = false;
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'MQTT client error'));

    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const check = setInterval(() => {
        if (this.subscribed) {
          clearInterval(check);
          resolve();
        } else if (Date.now() - started > 15_000) {
          clearInterval(check);
          reject(new Error(`could not connect and subscribe at ${this.opts.url} within 15 s`));
        }
      }, 20);
    });
  }

  /** True while connected and subscribed (part of /readyz). */
  get ready(): boolean {
    return this.subscribed && this.client?.connected === true;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.subscribed = false;
    if (client) await client.endAsync();
  }
}
