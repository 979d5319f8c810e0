import type { Alert } from '../../alerts/alert.js';
import type { Clock } from '../../lib/clock.js';
import { RiskgateError } from '../../lib/errors.js';
import type { EventBus } from '../../lib/event-bus.js';
import type { Logger } from '../../lib/logger.js';
import type { Metrics } from '../../lib/metrics.js';
import type { SqliteDb } from '../../lib/sqlite.js';
import type { GatewayEvents } from '../../pipeline/events.js';
import type { IngestOptions, IngestOutcome, ReadingSink, RejectInfo } from '../../pipeline/pipeline.js';
import type { Reading } from '../../pipeline/reading.js';
import { resolveRule, type RuleSet } from '../../rules/loader.js';
import type { StateRule } from '../../rules/evaluators/state.js';
import { MANUAL_CONFIRMABLE_ALARM_BITS } from './codec/bodies/manual-alarm-confirmation.js';
import { MSG } from './codec/constants.js';
import { Jt808Server } from './jt808-server.js';
import type { Jt808LocationMeta, Jt808ServerOptions, Jt808SessionEvent } from './server-context.js';
import { SqliteAuthCodeStore } from './sqlite-auth-code-store.js';
import { TerminalIndex, type VehicleSource } from './terminal-index.js';
import type { VehiclePayload } from './vehicle-payload.js';

/** What the gateway hands the JT/T 808 ingest (app.ts). */
export interface Jt808IngestContext {
  /** Server settings (JT808_* env) and any other server option. */
  options: Partial<Jt808ServerOptions>;
  registry: VehicleSource;
  /** The state database: auth codes live in `jt808_auth_codes`. */
  db: SqliteDb;
  pipeline: { ingestDevicePayload(tenant: string, kind: string, deviceId: string, channel: 'telemetry', payload: Buffer, info: RejectInfo, opts?: IngestOptions): IngestOutcome };
  /** Take a heartbeat as a sign of life: the rule engine (its offline rule) and device activity (online rate). */
  liveness: { rules: ReadingSink; activity: ReadingSink };
  /** The rules in force (hot reload swaps them): which alarm bits an acknowledged alert stands for. */
  rules(): RuleSet;
  /** `RULE_HISTORY_CUTOFF_MS`: how far behind the gateway clock a reading is history. */
  historyCutoffMs: number;
  bus: EventBus<GatewayEvents>;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  /** True while the store is backed up (spool full): locations are refused, terminals retransmit. */
  isBackedUp(): boolean;
}

/** Message ids labelled by name in `riskgate_jt808_*{msg_id}`; any other id is `other` (bounded label set). */
const KNOWN_MSG_IDS = new Map<number, string>(Object.values(MSG).map((id) => [id, `0x${id.toString(16).padStart(4, '0')}`]));
const msgIdLabel = (id: number): string => KNOWN_MSG_IDS.get(id) ?? 'other';

/** Alarms of a terminal that wait for the platform's 0x8203: the latest live alarm word and, per bit, the seq that carried it. */
interface AlarmTrack {
  word: number;
  /** msg_seq of the latest live 0x0200/0x0704 with the bit set, by bit. */
  serials: Map<number, number>;
}

const key = (tenant: string, deviceId: string): string => `${tenant}\u0000${deviceId}`;

/**
 * The JT/T 808 server wired into the gateway (docs/jt808.md "Wiring"):
 * - registration over the registry (`TerminalIndex`), auth codes in the state DB;
 * - every location → `pipeline.ingestDevicePayload(tenant, 'vehicle', id, 'telemetry', …)` with source `jt808`;
 *   0x0704 type 1 with `historical: true`, so it is stored and evaluated as history whatever its age;
 * - heartbeats and authentications count as signs of life for the offline rule and the online rate;
 * - an operator acknowledging an alert of an ack-clear alarm bit (0, 3, 20–22, 27, 28; domain.md §5.4) sends 0x8203
 *   with the serial of the 0x0200 that carried it — or queues it until the terminal is back online;
 * - every hook counted in `riskgate_jt808_*`.
 */
export class Jt808Ingest {
  readonly server: Jt808Server;
  readonly terminals: TerminalIndex;
  private readonly ctx: Jt808IngestContext;
  private readonly authCodes: SqliteAuthCodeStore;
  /** Online terminals' phones by device. */
  private readonly phones = new Map<string, string>();
  /** Device time of the latest live location, by device. */
  private readonly lastLiveTs = new Map<string, number>();
  private readonly alarms = new Map<string, AlarmTrack>();
  /** Confirmation masks to send when the terminal is next online (acknowledged while it was offline). */
  private readonly pending = new Map<string, number>();

  constructor(ctx: Jt808IngestContext) {
    this.ctx = ctx;
    const m = ctx.metrics;
    this.terminals = new TerminalIndex(ctx.registry, () => ctx.clock.now(), ctx.logger);
    this.authCodes = new SqliteAuthCodeStore({ db: ctx.db });
    this.server = new Jt808Server({
      findTerminal: (q) => this.terminals.find(q),
      authCodes: this.authCodes,
      onLocation: (tenant, deviceId, payload, meta) => this.location(tenant, deviceId, payload, meta),
      onSessionChange: (e) => this.sessionChanged(e),
      onHeartbeat: (tenant, deviceId) => this.alive(tenant, deviceId),
      accepting: () => !ctx.isBackedUp(),
      clock: ctx.clock,
      logger: ctx.logger.child({ component: 'jt808' }),
      metrics: {
        frameReceived: (id) => m.jt808Frames.inc({ msg_id: msgIdLabel(id) }),
        decodeError: (reason) => m.jt808DecodeErrors.inc({ reason }),
        refused: (reason) => m.jt808Refusals.inc({ reason }),
        duplicate: (id) => m.jt808Duplicates.inc({ msg_id: msgIdLabel(id) }),
        sessions: ({ connections, online }) => {
          m.jt808Connections.set(connections);
          m.jt808SessionsOnline.set(online);
        },
        connectionClosed: (reason) => m.jt808ConnectionsClosed.inc({ reason }),
      },
      options: ctx.options,
    });
  }

  async start(): Promise<void> {
    this.authCodes.start();
    this.ctx.bus.on('alertEvent', this, (ev) => {
      if (ev.type === 'acknowledged') this.acknowledged(ev.alert);
    });
    try {
      await this.server.start();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw err;
      const o = this.ctx.options;
      throw new RiskgateError('RG_ERR_CONFIG_INVALID', `JT/T 808 server cannot listen on ${o.host ?? '0.0.0.0'}:${o.port ?? 7611} (${code}): set JT808_HOST / JT808_PORT, or JT808_ENABLED=false`);
    }
  }

  async stop(): Promise<void> {
    this.ctx.bus.removeOwner(this);
    await this.server.stop();
  }

  /** The bound port (the real one when JT808_PORT=0). */
  get port(): number {
    return this.server.port;
  }

  /** Phone of the device's online terminal, if any. */
  onlinePhone(tenant: string, deviceId: string): string | undefined {
    return this.phones.get(key(tenant, deviceId));
  }

  private location(tenant: string, deviceId: string, payload: VehiclePayload, meta: Jt808LocationMeta): void {
    const bytes = Buffer.from(JSON.stringify(payload));
    this.ctx.pipeline.ingestDevicePayload(tenant, 'vehicle', deviceId, 'telemetry', bytes, { source: 'jt808', topic: `jt808:${meta.phone}`, payload: bytes }, { historical: meta.history });
    this.ctx.metrics.jt808Locations.inc({ type: meta.history ? 'history' : 'live' });
    if (meta.history) return; // a re-upload says nothing about the terminal's alarms now
    const k = key(tenant, deviceId);
    if (payload.ts > (this.lastLiveTs.get(k) ?? Number.NEGATIVE_INFINITY)) this.lastLiveTs.set(k, payload.ts);
    this.trackAlarms(k, payload.data.alarm_bits ?? 0, meta.seq);
  }

  /** Keeps, for the ack-clear bits set, the seq of the latest message that carried them (0x8203's alarm serial). */
  private trackAlarms(k: string, word: number, seq: number): void {
    const confirmable = (word & MANUAL_CONFIRMABLE_ALARM_BITS) >>> 0;
    if (confirmable === 0) {
      this.alarms.delete(k);
      return;
    }
    let t = this.alarms.get(k);
    if (!t) this.alarms.set(k, (t = { word, serials: new Map() }));
    t.word = word >>> 0;
    for (let bit = 0; bit < 32; bit++) if ((confirmable >>> bit) & 1) t.serials.set(bit, seq);
  }

  /**
   * A sign of life without a location (0x0002, 0x0102): a field-less `status` reading for the rule engine — only the
   * offline rule reacts to it — and for device activity (last seen, not counted as a received reading). Its time is
   * the latest live device time, but never older than the history cut-off, so that value rules see it live (and it
   * never moves their newest-time mark ahead of what the terminal reported).
   */
  private alive(tenant: string, deviceId: string): void {
    const now = this.ctx.clock.now();
    const ts = Math.max(this.lastLiveTs.get(key(tenant, deviceId)) ?? Number.NEGATIVE_INFINITY, now - this.ctx.historyCutoffMs);
    const reading: Reading = { tenant, deviceId, kind: 'vehicle', channel: 'status', ts, receivedAt: now, fields: {}, tags: {} };
    this.ctx.liveness.rules.accept(reading);
    // Device time 0 falls outside DeviceActivity's retention: last-seen moves, no bucket counts it.
    this.ctx.liveness.activity.accept({ ...reading, ts: 0 });
  }

  private sessionChanged(e: Jt808SessionEvent): void {
    const k = key(e.tenant, e.deviceId);
    if (e.state === 'online') {
      this.phones.set(k, e.phone);
      this.alive(e.tenant, e.deviceId);
      const mask = this.pending.get(k);
      if (mask !== undefined && this.server.sendManualAlarmConfirmation(e.phone, 0, mask)) {
        this.pending.delete(k);
        this.ctx.metrics.jt808AlarmConfirmations.inc({ outcome: 'sent' });
        this.ctx.logger.info({ tenant: e.tenant, deviceId: e.deviceId, phone: e.phone, alarmType: mask }, 'jt808 0x8203 sent (queued while the terminal was offline)');
      }
    } else if (this.phones.get(k) === e.phone) {
      this.phones.delete(k);
    }
  }

  /**
   * An operator acknowledged an alert: when it stands for ack-clear alarm bits (a `state` rule on `alarm_bits`), the
   * terminal is told with 0x8203 so it clears them (domain.md §5.3/§5.4). One 0x8203 per distinct serial; serial 0
   * (every alarm of those types) when the carrying message is not known (alarm already cleared, gateway restarted).
   */
  private acknowledged(a: Alert): void {
    if (a.kind !== 'vehicle' || a.historical) return;
    const set = this.ctx.rules();
    const base = set.byId.get(a.rule_id);
    if (!base || base.type !== 'state') return;
    const rule = resolveRule(set, base, { tenant: a.tenant, region: a.region ?? undefined }) as StateRule;
    if (rule.field !== 'alarm_bits' || !rule.bits) return;
    let ruleMask = 0;
    for (const b of rule.bits) if (b.bit < 32) ruleMask |= 1 << b.bit;
    const confirmable = (ruleMask & MANUAL_CONFIRMABLE_ALARM_BITS) >>> 0;
    if (confirmable === 0) return; // held alarms clear by themselves
    // Only vehicles with a registered JT/T 808 terminal (an auth code): one reporting over MQTT gets nothing queued.
    if (!this.authCodes.findByDevice({ tenant: a.tenant, deviceId: a.device_id })) return;
    const k = key(a.tenant, a.device_id);
    const track = this.alarms.get(k);
    const active = track ? (track.word & confirmable) >>> 0 : 0;
    const bySerial = new Map<number, number>();
    if (active === 0) bySerial.set(0, confirmable);
    else {
      for (let bit = 0; bit < 32; bit++) {
        if (!((active >>> bit) & 1)) continue;
        const serial = track?.serials.get(bit) ?? 0;
        bySerial.set(serial, ((bySerial.get(serial) ?? 0) | (1 << bit)) >>> 0);
      }
    }
    const phone = this.phones.get(k);
    for (const [serial, mask] of bySerial) {
      if (phone !== undefined && this.server.sendManualAlarmConfirmation(phone, serial, mask)) {
        this.ctx.metrics.jt808AlarmConfirmations.inc({ outcome: 'sent' });
        this.ctx.logger.info({ alertId: a.id, tenant: a.tenant, deviceId: a.device_id, phone, alarmSerial: serial, alarmType: mask }, 'jt808 0x8203 sent: alarm confirmed by an operator');
      } else {
        this.pending.set(k, ((this.pending.get(k) ?? 0) | mask) >>> 0);
        this.ctx.metrics.jt808AlarmConfirmations.inc({ outcome: 'queued' });
        this.ctx.logger.info({ alertId: a.id, tenant: a.tenant, deviceId: a.device_id, alarmType: mask }, 'jt808 0x8203 queued: the terminal is offline; sent when it is back');
      }
    }
  }
}
