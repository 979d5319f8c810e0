import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../lib/logger.js';
import type { IngestOptions, Pipeline } from '../../pipeline/pipeline.js';
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
  /**
   * While this returns true the ingest takes no further message (the store's spool is full): mqtt.js reads nothing more
   * from the socket, TCP pushes back, and the broker queues for our persistent session. Checked before each message.
   */
  isBackedUp?: () => boolean;
  /**
   * Group commit window, ms (default 2): the messages taken within it are appended to the spool as one record and
   * their PUBACKs leave in one write after it; 0 = at the end of each socket read. At most {@link MAX_GROUP_MESSAGES}.
   */
  groupCommitMs?: number;
  /**
   * mqtt.js's per-packet trace (the `debug` package, shown when DEBUG names `mqttjs`). Default off: mqtt.js then gets
   * a no-op logger, since even a disabled `debug` call costs — a dozen per packet, ~3 µs a message (issue 9).
   */
  trace?: boolean;
  /** Told when the ingest pauses (true) and resumes (false). */
  onPause?: (paused: boolean) => void;
}

/** How often a paused ingest checks whether it may go on, ms. */
const PAUSE_POLL_MS = 100;
const NOW: IngestOptions = {};
const IN_GROUP: IngestOptions = { deferCommit: true };

const noTrace = (): void => {};

/** A group commit ends after this many messages whatever its window (bounds the acks and points it holds). */
export const MAX_GROUP_MESSAGES = 1000;

/**
 * The gateway's MQTT subscriber: QoS 1 on `rg/v1/#`, persistent session, every message into the pipeline.
 */
export class MqttIngest {
  private readonly opts: MqttIngestOptions;
  private readonly pipeline: Pipeline;
  private client?: MqttClient;
  private subscribed = false;
  /** A message is held back (spool full): the socket is paused with unread data, so a polite end never completes. */
  private holding = false;
  /** The socket corked by an open group commit ({@link beginGroup}), and the commit's scheduled end. */
  private corked?: Partial<Socket>;
  private groupMessages = 0;
  private groupTimer?: NodeJS.Timeout;
  private readonly endGroup = (): void => this.commitGroup();

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
      ...(this.opts.trace === true ? {} : { log: noTrace }),
    });
    this.client = client;
    // mqtt.js hands over one message at a time and sends its PUBACK only when `done` is called, so a message is
    // acknowledged after the pipeline took it — and, through the group commit below, after its points are in the
    // spool — never before. Holding `done` back (spool full) stops the client reading: backpressure reaches the broker
    // instead of filling our memory.
    client.handleMessage = (packet, done) => {
      const backedUp = this.opts.isBackedUp;
      if (backedUp?.()) {
        this.holding = true;
        this.opts.onPause?.(true);
        log.warn('store spool is full: MQTT ingest paused until the store catches up');
        const wait = setInterval(() => {
          if (this.client !== client) {
            clearInterval(wait); // stopping: neither taken nor acknowledged, so the broker delivers it again
            this.holding = false;
            return;
          }
          if (backedUp()) return;
          clearInterval(wait);
          this.holding = false;
          this.opts.onPause?.(false);
          log.info('MQTT ingest resumed');
          this.take(packet.topic.toString(), packet.payload as Buffer);
          done();
        }, PAUSE_POLL_MS);
        return;
      }
      this.beginGroup(client);
      this.take(packet.topic.toString(), packet.payload as Buffer);
      done();
      // done() wrote this message's PUBACK into the corked socket: a full group leaves now.
      if (++this.groupMessages >= MAX_GROUP_MESSAGES) this.commitGroup();
    };
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
      // The points taken on this connection go to the spool now; their PUBACKs died with it (the broker redelivers).
      this.commitGroup();
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

  /**
   * Group commit (issue 9). mqtt.js works through the packets of a socket read in a chain of process.nextTick
   * callbacks and writes each PUBACK as soon as `done` is called: with a spool append per message that is two system
   * calls per message, and on loopback a socket write costs the sender the receiver's TCP work too. Instead, the first
   * message of a group corks the socket and the pipeline takes the group's messages with `deferCommit`. The group ends
   * after `groupCommitMs` (at the end of the socket read when 0; at once after MAX_GROUP_MESSAGES): `pipeline.commit()`
   * appends its points to the spool as one record, then the socket is uncorked and every PUBACK of the group leaves
   * in one write — after its message is on disk (page cache), the same guarantee as before. While corked, `write()`
   * only buffers (past its high-water mark mqtt.js waits for 'drain', which the uncork brings), so no acknowledgement
   * can leave early. Rules, alerts and the stream see each message when it is taken: only the acknowledgement waits.
   */
  private beginGroup(client: MqttClient): void {
    const stream = client.stream as Partial<Socket>;
    if (this.corked === stream) return;
    // A group of an earlier connection still open: it ends first (its socket is not this one).
    if (this.corked !== undefined) this.commitGroup();
    if (typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') return;
    stream.cork();
    this.corked = stream;
    this.groupMessages = 0;
    const ms = this.opts.groupCommitMs ?? 2;
    if (ms > 0) this.groupTimer = setTimeout(this.endGroup, ms);
    else queueMicrotask(this.endGroup);
  }

  private commitGroup(): void {
    const stream = this.corked;
    if (stream === undefined) return;
    this.corked = undefined;
    if (this.groupTimer !== undefined) {
      clearTimeout(this.groupTimer);
      this.groupTimer = undefined;
    }
    try {
      this.pipeline.commit();
    } catch (err) {
      // Not expected (the spool's own failures are handled in the batcher). The batch's PUBACKs must not leave for
      // points that may not be on disk: drop the connection unacknowledged; the broker delivers them again.
      this.opts.logger.error({ err }, 'group commit failed; dropping the MQTT connection so the broker redelivers');
      (stream as Socket).destroy?.();
      return;
    }
    // A closed connection's buffered PUBACKs are dropped with it (unacknowledged: the broker delivers them again).
    if (stream.destroyed !== true) (stream.uncork as () => void).call(stream);
  }

  private take(topic: string, payload: Buffer): void {
    // The pipeline turns every bad message into a counted reject; should it ever throw, the error must not escape
    // into mqtt.js: that stalls the ingest, or crashes the process and the redelivered QoS 1 message crashes it again.
    try {
      // In a group (the socket corked), the spool append waits for the group's commit, and so do the PUBACKs.
      this.pipeline.ingestMqtt(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, this.corked === undefined ? NOW : IN_GROUP);
    } catch (err) {
      this.opts.logger.error({ err, topic: topic.slice(0, 200), bytes: payload.length }, 'pipeline failed on an MQTT message; dead-lettered');
      this.pipeline.internalFailure(topic, payload, err);
    }
  }

  /** True while connected and subscribed (part of /readyz). */
  get ready(): boolean {
    return this.subscribed && this.client?.connected === true;
  }

  async stop(): Promise<void> {
    this.commitGroup();
    const client = this.client;
    this.client = undefined;
    this.subscribed = false;
    // While a message is held the client reads nothing, so a graceful DISCONNECT would wait for a `close` that never
    // comes (SIGTERM then hit the 15 s shutdown timeout). Force it: the held message was not acknowledged, so the
    // broker delivers it again to the next session.
    if (client) await client.endAsync(this.holding);
    this.holding = false;
  }
}
