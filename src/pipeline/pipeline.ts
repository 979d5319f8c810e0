import { parseEnvelope, type FieldError } from '../kinds/envelope.js';
import { KINDS } from '../kinds/index.js';
import { validateData } from '../kinds/validate.js';
import { parseTopic } from '../ingest/mqtt/topics.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../lib/metrics.js';
import { DeviceMap } from '../registry/device-map.js';
import type { Device, DeviceRegistry } from '../registry/device-registry.js';
import { REJECT_REASONS, payloadExcerpt, type DeadLetterLog, type RejectReason } from './dead-letters.js';
import type { Channel, Reading } from './reading.js';

/** A downstream stage that takes accepted readings (storage, rules). Must not throw; failures are its own outcome. */
export interface ReadingSink {
  /** `device`: the registry record the pipeline just looked up (saves the sink a lookup); absent from other callers. */
  accept(reading: Reading, device?: Device): void;
  /** The message being taken is part of a group commit (`IngestOptions.deferCommit`): `endMessage()` comes at {@link Pipeline.commit}, not at its end. */
  holdCommit?(): void;
  /** Called once at the end of each message that had accepted readings (storage appends them to its spool here, before the ack). */
  endMessage?(): void;
}

/** Limits applied to every message, whatever the adapter. */
export interface IngestLimits {
  /** Largest accepted payload, bytes. Default 65 536. */
  maxPayloadBytes: number;
  /** How far a device time may be ahead of the gateway clock, ms. Default 300 000 (5 min). */
  maxFutureMs: number;
  /** How far a device time may be behind the gateway clock, ms. Default 7 days (buffered and re-uploaded data). */
  maxAgeMs: number;
  /**
   * Messages a device may send per second on average (a token bucket holding 10 s worth absorbs bursts); more are
   * rejected as `rate_limited`. Counts messages, not readings: a `readings[]` batch is one. A second counts as passed
   * when either the gateway clock or the device's timestamps advanced by it (a backlog is not a flood). Default 50.
   */
  maxMessagesPerDevicePerS: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxPayloadBytes: 65_536, maxFutureMs: 300_000, maxAgeMs: 7 * 86_400_000, maxMessagesPerDevicePerS: 50 };

/** What became of one message. */
export interface IngestOutcome {
  accepted: number;
  rejected: number;
}

export interface PipelineContext {
  registry: DeviceRegistry;
  metrics: Metrics;
  deadLetters: DeadLetterLog;
  clock: Clock;
  limits: IngestLimits;
  sinks: ReadingSink[];
}

/** One reject as the sender is told it (HTTP ingest answers with these). */
export interface RejectSummary {
  reason: RejectReason;
  code: string;
  path?: string;
  message: string;
}

/** Where a message came from; `errors`, when given, collects a summary of each reject for the sender. */
export interface RejectInfo {
  source: string;
  topic?: string;
  tenant?: string;
  deviceId?: string;
  payload?: Buffer;
  errors?: RejectSummary[];
}

/** Per-message options of {@link Pipeline.ingestDevicePayload}. */
export interface IngestOptions {
  /**
   * Every reading of the message is history whatever its age (`Reading.historical`): stored, evaluated on the rules'
   * history state, never paged live. For re-uploads the adapter knows to be back-dated (JT/T 808 0x0704 type 1
   * 盲区补报) even when they are younger than `RULE_HISTORY_CUTOFF_MS`. Default false.
   */
  historical?: boolean;
  /**
   * Group commit (issue 9): the sinks' `endMessage()` (the spool append) is not called at the end of this message but
   * at the next {@link Pipeline.commit}. The caller must not acknowledge the message before that commit returned
   * (MqttIngest holds the PUBACKs in its corked socket). Other messages meanwhile (HTTP, JT/T 808) commit as usual
   * and take the deferred points with them, which is only earlier. Default false.
   */
  deferCommit?: boolean;
}

/**
 * Parse → validate → fan out. Synchronous: a message is fully accepted or rejected before the next one.
 * A failure is an outcome (counted, dead-lettered), never an exception.
 */
export class Pipeline {
  private readonly ctx: PipelineContext;
  /** Per-device token buckets: [tokens, last refill (gateway ms), newest device time seen (ms)]. */
  private readonly buckets = new DeviceMap<[number, number, number]>();
  /** A message taken with `deferCommit` had accepted readings that no commit has covered yet. */
  private commitPending = false;

  constructor(ctx: PipelineContext) {
    this.ctx = ctx;
  }

  /**
   * Takes one token from the device's bucket; false when it is empty. The bucket refills with whichever advanced more
   * since the device's previous message: gateway time, or the device's own time (`deviceTs`, its newest reading). A
   * backlog — queued at the broker while the gateway was away, or flushed by a device after a network outage — arrives
   * far faster than real time but its timestamps advance at the device's normal pace, so it is not refused (the broker
   * already acknowledged it: refusing it would lose it). A flood with repeated or barely moving timestamps still is.
   */
  private allow(device: Device, now: number, deviceTs: number): boolean {
    const rate = this.ctx.limits.maxMessagesPerDevicePerS;
    const cap = rate * 10;
    const b = this.buckets.get(device.tenant, device.deviceId);
    if (!b) {
      this.buckets.set(device.tenant, device.deviceId, [cap - 1, now, deviceTs]);
      return true;
    }
    const elapsed = Math.max(now - b[1], deviceTs - b[2]);
    b[0] = Math.min(cap, b[0] + (Math.max(0, elapsed) * rate) / 1000);
    b[1] = now;
    if (deviceTs > b[2]) b[2] = deviceTs;
    if (b[0] < 1) return false;
    b[0] -= 1;
    return true;
  }

  /** One MQTT message from `rg/v1/{tenant}/{kind}/{deviceId}/{channel}`. */
  ingestMqtt(topic: string, payload: Buffer, opts: IngestOptions = {}): IngestOutcome {
    const info: RejectInfo = { source: 'mqtt', topic, payload };
    if (payload.length > this.ctx.limits.maxPayloadBytes) {
      return this.reject('payload_too_large', `payload is ${payload.length} bytes, limit ${this.ctx.limits.maxPayloadBytes}`, info);
    }
    const t = parseTopic(topic);
    if (!t.ok) return this.reject('bad_topic', t.reason, info);
    this.ctx.metrics.mqttMessages.tally(t.topic.channel);
    return this.ingestDevicePayload(t.topic.tenant, t.topic.kind, t.topic.deviceId, t.topic.channel, payload, info, opts);
  }

  /** A message the pipeline itself failed on (a bug): still counted and dead-lettered, never silently lost. */
  internalFailure(topic: string, payload: Buffer, err: unknown): void {
    this.reject('internal_error', `the gateway failed on this message: ${(err as Error)?.message ?? String(err)}`, { source: 'mqtt', topic, payload });
  }

  /** One HTTP ingest message (webhook); `errors` receives a summary of each reject for the response. */
  ingestHttp(tenant: string, kind: string, deviceId: string, channel: Channel, payload: Buffer, errors: RejectSummary[]): IngestOutcome {
    const info: RejectInfo = { source: 'http', topic: `http:/api/v1/ingest/${tenant}/${kind}/${deviceId}`, payload, errors };
    if (payload.length > this.ctx.limits.maxPayloadBytes) {
      return this.reject('payload_too_large', `payload is ${payload.length} bytes, limit ${this.ctx.limits.maxPayloadBytes}`, info);
    }
    return this.ingestDevicePayload(tenant, kind, deviceId, channel, payload, info);
  }

  /** A payload already attributed to a device (MQTT after the topic, HTTP webhook, a JT/T 808 terminal). */
  ingestDevicePayload(tenant: string, kind: string, deviceId: string, channel: Channel, payload: Buffer, info: RejectInfo, opts: IngestOptions = {}): IngestOutcome {
    info.tenant = tenant;
    info.deviceId = deviceId;
    const device = this.ctx.registry.get(tenant, deviceId);
    if (!device) return this.reject('unknown_device', `device ${tenant}/${deviceId} is not registered`, info);
    if (device.kind !== kind) {
      return this.reject('kind_mismatch', `device ${tenant}/${deviceId} is registered as ${device.kind}, topic says ${kind}`, info);
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return this.reject('malformed_json', `payload is not valid JSON: ${(err as Error).message}`, info);
    }
    const env = parseEnvelope(json);
    if (!env.ok) return this.schemaReject(env.error, info);
    let deviceTs = Number.NEGATIVE_INFINITY;
    for (const entry of env.entries) if (entry.ts > deviceTs) deviceTs = entry.ts;
    if (!this.allow(device, this.ctx.clock.now(), deviceTs)) {
      return this.reject('rate_limited', `device ${tenant}/${deviceId} sends more than ${this.ctx.limits.maxMessagesPerDevicePerS} messages per second of its own time and of gateway time`, info);
    }

    const def = KINDS[device.kind];
    const now = this.ctx.clock.now();
    const oldest = now - this.ctx.limits.maxAgeMs;
    const newest = now + this.ctx.limits.maxFutureMs;
    let accepted = 0;
    let rejected = 0;
    for (const e of env.rejects) {
      this.schemaReject(e, info);
      rejected++;
    }
    for (const entry of env.entries) {
      const prefix = entry.index === undefined ? '' : `readings[${entry.index}].`;
      if (entry.ts < oldest || entry.ts > newest) {
        const when = new Date(entry.ts).toISOString();
        this.reject(
          'timestamp_out_of_window',
          `${prefix}ts ${when} is outside the accepted window (${this.ctx.limits.maxAgeMs / 60_000} min back, ${this.ctx.limits.maxFutureMs / 60_000} min ahead of ${new Date(now).toISOString()})`,
          info,
          `${prefix}ts`,
        );
        rejected++;
        continue;
      }
      const v = validateData(def, entry.data, `${prefix}data`);
      if (!v.ok) {
        const first = v.errors[0] as FieldError;
        this.reject('schema_violation', v.errors.map((x) => x.message).join('; '), info, first.path);
        rejected++;
        continue;
      }
      const tags = v.tags;
      if (device.region !== undefined) tags.region = device.region;
      if (device.site !== undefined) tags.site = device.site;
      const reading: Reading = {
        tenant,
        deviceId,
        kind: device.kind,
        channel,
        ts: entry.ts,
        receivedAt: now,
        seq: entry.seq,
        fields: v.fields,
        tags,
      };
      // A blind-area re-upload is history whatever its age, over JT/T 808 (0x0704 type 1) and over MQTT/HTTP alike
      // (`backfill: true` in a vehicle payload): stored and evaluated as history, never paged live.
      if (opts.historical === true || v.fields.backfill === true) reading.historical = true;
      if (accepted === 0 && opts.deferCommit === true) for (const sink of this.ctx.sinks) sink.holdCommit?.();
      for (const sink of this.ctx.sinks) sink.accept(reading, device);
      this.ctx.metrics.readingsAccepted.tally(device.kind);
      accepted++;
    }
    if (accepted > 0) {
      if (opts.deferCommit === true) this.commitPending = true;
      else this.endMessage();
    }
    return { accepted, rejected };
  }

  /** Ends a group commit: the deferred messages' points become one spool record now, before their acknowledgements. */
  commit(): void {
    if (this.commitPending) this.endMessage();
  }

  private endMessage(): void {
    this.commitPending = false;
    for (const sink of this.ctx.sinks) sink.endMessage?.();
  }

  private schemaReject(error: FieldError, info: RejectInfo): IngestOutcome {
    return this.reject('schema_violation', error.message, info, error.path);
  }

  private reject(reason: RejectReason, message: string, info: RejectInfo, path?: string): IngestOutcome {
    this.ctx.metrics.readingsRejected.inc({ reason });
    this.ctx.deadLetters.add({
      at: this.ctx.clock.now(),
      reason,
      source: info.source,
      topic: info.topic,
      tenant: info.tenant,
      deviceId: info.deviceId,
      path,
      message,
      payload: info.payload ? payloadExcerpt(info.payload) : undefined,
      payloadBytes: info.payload?.length,
    });
    this.ctx.metrics.deadLetters.set(this.ctx.deadLetters.size);
    info.errors?.push({ reason, code: REJECT_REASONS[reason], path, message });
    return { accepted: 0, rejected: 1 };
  }
}
