import { connect, type Socket } from 'node:net';
import {
  BATCH_TYPE,
  decodeBody,
  decodePacket,
  encodeBody,
  encodeMessage,
  encodeSubpackaged,
  EXTRA,
  Jt808FrameSplitter,
  MAX_BODY_BYTES,
  MSG,
  REGISTER_RESULT,
  type Jt808Body,
  type Jt808Message,
  type Jt808Version,
  type LocationBody,
  type LocationExtra,
} from '../ingest/jt808/index.js';

/**
 * A simulated JT/T 808 terminal (domain.md §5.6) over TCP: registers, authenticates, sends heartbeats, reports
 * locations while driving a route, raises alarm bits on demand, uploads 0x0704 blind-area batches, and answers the
 * platform's 0x8203 by clearing the confirmed bits (what a real terminal does with ack-clear alarms, §5.4). Used by
 * the tests and by the load generator (src/loadtest/jt808-load.ts), so it keeps nothing per message beyond the
 * requests awaiting their answer.
 */

/** A point of a route: WGS-84 degrees. */
export type LatLon = readonly [lat: number, lon: number];

export interface Jt808TerminalOptions {
  host: string;
  port: number;
  /** Terminal phone (SIM number), digits; sent left-padded to 12 (2013) or 20 (2019) BCD digits. */
  phone: string;
  /** Header edition. Default 2013 (the widely deployed 北斗 edition). */
  version?: Jt808Version;
  /** 0x0100 终端ID: at most 7 characters in 2013, 30 in 2019. Default `T` + the phone's last 6 digits. */
  terminalId?: string;
  /** 0x0100 车辆标识 (plate, or the VIN with plate colour 0). Default empty. */
  plate?: string;
  /** Default 2 (yellow: trucks and coaches). */
  plateColor?: number;
  provinceId?: number;
  cityId?: number;
  makerId?: string;
  model?: string;
  /** A code from an earlier registration: `login()` then skips 0x0100. */
  authCode?: string;
  /** Waypoints driven in order, then back to the first. Default: a loop in 成都. */
  route?: readonly LatLon[];
  /** Speed along the route, km/h. Default 60. */
  speedKmh?: number;
  /** Device clock, epoch ms (BCD times have whole seconds). Default `Date.now`. */
  now?: () => number;
  /** How long a request waits for its answer, ms. Default 10 000. */
  replyTimeoutMs?: number;
  /** Clear the bits a 0x8203 confirms, and answer it with 0x0001. Default true. */
  honourConfirmations?: boolean;
  /** Keep the platform's own messages (0x8203…) in `inbox`. Default true; the load generator turns it off. */
  keepInbox?: boolean;
  /** Called for every platform-initiated message (not the answers to our requests). */
  onPlatformMessage?(msg: Jt808Message): void;
  /** Called when the connection closes (by either side). */
  onClose?(hadError: boolean): void;
}

/** What the platform answered: 0x8001 result, or 0x8100 result (+ code). */
export interface Jt808Answer {
  msgId: number;
  result: number;
  authCode?: string;
}

/** One location to report; every field defaults from the terminal's state (route position, speed, alarms, clock). */
export interface LocationInit {
  /** Device time, epoch ms. Default `now()`. */
  at?: number;
  lat?: number;
  lon?: number;
  speedKmh?: number;
  headingDeg?: number;
  altitudeM?: number;
  /** Alarm word; default the terminal's current `alarmBits`. */
  alarmBits?: number;
  /** Status word; default ACC on + located (bits 0, 1) + GPS/北斗 (bits 18, 19). */
  statusBits?: number;
  mileageKm?: number;
  satellites?: number;
  extras?: LocationExtra[];
}

/** Status word of a moving, located vehicle: ACC on, located, GPS + 北斗 (domain.md §5.5). */
export const DEFAULT_STATUS_BITS = (1 << 0) | (1 << 1) | (1 << 18) | (1 << 19);

/** A loop in 成都 (天府广场 → 北 → 东 → back), clear of the example geofence in alert-rules/vehicle.yaml. */
export const DEFAULT_ROUTE: readonly LatLon[] = [
  [30.6574, 104.0658],
  [30.68, 104.12],
  [30.71, 104.15],
];

/** Thrown when the platform does not answer in time, or the connection closes first. */
export class Jt808TerminalError extends Error {
  override name = 'Jt808TerminalError';
}

interface Pending {
  resolve(a: Jt808Answer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const KM_PER_DEG_LAT = 111.32;

export class Jt808Terminal {
  readonly phone: string;
  readonly version: Jt808Version;
  /** Auth code from the latest 0x8100 (or the options). */
  authCode: string | undefined;
  /** Current alarm word sent with every location (domain.md §5.4). */
  alarmBits = 0;
  /** Speed along the route, km/h. */
  speedKmh: number;
  /** Platform-initiated messages received (0x8203…), when `keepInbox`. */
  readonly inbox: Jt808Message[] = [];
  /** Counters, for the load generator. */
  readonly stats = { sent: 0, answers: 0, platformMessages: 0, timeouts: 0, decodeErrors: 0 };
  private readonly opts: Jt808TerminalOptions;
  private socket: Socket | undefined;
  private readonly splitter = new Jt808FrameSplitter();
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private inboxWaiters: (() => void)[] = [];
  private closedFlag = false;
  private closeWaiters: (() => void)[] = [];
  private readonly route: readonly LatLon[];
  private leg = 0;
  /** Kilometres driven along the current leg. */
  private legKm = 0;
  private odometerKm = 0;
  private lastMoveAt: number | undefined;

  constructor(opts: Jt808TerminalOptions) {
    this.opts = opts;
    this.phone = opts.phone;
    this.version = opts.version ?? 2013;
    this.authCode = opts.authCode;
    this.speedKmh = opts.speedKmh ?? 60;
    this.route = opts.route && opts.route.length > 0 ? opts.route : DEFAULT_ROUTE;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Opens the TCP connection. */
  async connect(): Promise<void> {
    const socket = connect({ host: this.opts.host, port: this.opts.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    socket.on('error', () => undefined); // 'close' follows
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', (hadError) => this.onClosed(hadError));
    this.socket = socket;
    this.closedFlag = false;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.closedFlag;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Resolves when the connection is closed (at once when it already is). */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.closedFlag || !this.socket) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Jt808TerminalError(`${this.phone}: connection still open after ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // ── session ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** 0x0100 → 0x8100; keeps the code on success. */
  async register(): Promise<Jt808Answer> {
    const o = this.opts;
    const answer = await this.request({
      type: 'register',
      layout: this.version === 2019 ? 2019 : 2013,
      provinceId: o.provinceId ?? 51,
      cityId: o.cityId ?? 100,
      makerId: o.makerId ?? 'RGSIM',
      model: o.model ?? 'RG-SIM-808',
      terminalId: o.terminalId ?? `T${this.phone.slice(-6)}`,
      plateColor: o.plateColor ?? 2,
      plate: o.plate ?? '',
    });
    if (answer.result === REGISTER_RESULT.OK) this.authCode = answer.authCode;
    return answer;
  }

  /** 0x0102 with the code → 0x8001 result (0 = authenticated). */
  async authenticate(code = this.authCode): Promise<number> {
    if (code === undefined) throw new Jt808TerminalError(`${this.phone}: no auth code (register first)`);
    const body: Jt808Body =
      this.version === 2019
        ? { type: 'authenticate', authCode: code, imei: `86${this.phone.padStart(13, '0').slice(-13)}`, softwareVersion: 'RG-SIM 1.0' }
        : { type: 'authenticate', authCode: code };
    return (await this.request(body)).result;
  }

  /**
   * Registers when it holds no code, then authenticates; a refused code (result 1) registers again once (domain.md
   * §5.6 step 2). Throws when the platform refuses.
   */
  async login(): Promise<void> {
    if (this.authCode === undefined) await this.mustRegister();
    if ((await this.authenticate()) === 0) return;
    await this.mustRegister();
    const result = await this.authenticate();
    if (result !== 0) throw new Jt808TerminalError(`${this.phone}: authentication refused (0x8001 result ${result})`);
  }

  private async mustRegister(): Promise<void> {
    const a = await this.register();
    if (a.result !== REGISTER_RESULT.OK) throw new Jt808TerminalError(`${this.phone}: registration refused (0x8100 result ${a.result})`);
  }

  /** 0x0002 → 0x8001 result. */
  async heartbeat(): Promise<number> {
    return (await this.request({ type: 'heartbeat' })).result;
  }

  /** 0x0003 → 0x8001 result; the code is then void. */
  async logout(): Promise<number> {
    const r = (await this.request({ type: 'logout' })).result;
    this.authCode = undefined;
    return r;
  }

  // ── alarms and locations ────────────────────────────────────────────────────────────────────────────────────

  /** Sets alarm bits (a mask, domain.md §5.4) in every following location until cleared. */
  raiseAlarm(mask: number): void {
    this.alarmBits = (this.alarmBits | mask) >>> 0;
  }

  clearAlarm(mask: number): void {
    this.alarmBits = (this.alarmBits & ~mask) >>> 0;
  }

  /** Moves along the route by the speed × `ms` (default: the time since the last move on the device clock). */
  advance(ms?: number): void {
    const now = this.now();
    const dt = ms ?? (this.lastMoveAt === undefined ? 0 : now - this.lastMoveAt);
    this.lastMoveAt = now;
    let km = (this.speedKmh * Math.max(0, dt)) / 3_600_000;
    this.odometerKm += km;
    while (km > 0) {
      const [a, b] = this.legEnds();
      const left = distanceKm(a, b) - this.legKm;
      if (km < left) {
        this.legKm += km;
        return;
      }
      km -= left;
      this.leg = (this.leg + 1) % this.route.length;
      this.legKm = 0;
      if (this.route.length === 1) return;
    }
  }

  /** Current position and heading on the route. */
  position(): { lat: number; lon: number; headingDeg: number } {
    const [a, b] = this.legEnds();
    const len = distanceKm(a, b);
    const f = len === 0 ? 0 : this.legKm / len;
    return { lat: a[0] + (b[0] - a[0]) * f, lon: a[1] + (b[1] - a[1]) * f, headingDeg: headingDeg(a, b) };
  }

  private legEnds(): [LatLon, LatLon] {
    const a = this.route[this.leg] as LatLon;
    const b = this.route[(this.leg + 1) % this.route.length] as LatLon;
    return [a, b];
  }

  /** A 0x0200 body from the terminal's state and `init`. */
  locationBody(init: LocationInit = {}): LocationBody {
    const pos = this.position();
    const lat = init.lat ?? pos.lat;
    const lon = init.lon ?? pos.lon;
    const status = (init.statusBits ?? DEFAULT_STATUS_BITS) | (lat < 0 ? 1 << 2 : 0) | (lon < 0 ? 1 << 3 : 0);
    const extras: LocationExtra[] = [
      { id: EXTRA.MILEAGE, value: Math.round((init.mileageKm ?? this.odometerKm) * 10) },
      { id: EXTRA.SATELLITES, value: init.satellites ?? 12 },
      ...(init.extras ?? []),
    ];
    return {
      alarmBits: (init.alarmBits ?? this.alarmBits) >>> 0,
      statusBits: status >>> 0,
      latE6: Math.round(Math.abs(lat) * 1e6),
      lonE6: Math.round(Math.abs(lon) * 1e6),
      altitudeM: Math.round(init.altitudeM ?? 500) & 0xffff,
      speedDeciKmh: Math.round((init.speedKmh ?? this.speedKmh) * 10),
      direction: Math.round(init.headingDeg ?? pos.headingDeg) % 360,
      time: init.at ?? this.now(),
      extras,
    };
  }

  /** 0x0200 → 0x8001; returns the seq it went with (the alarm serial 0x8203 names) and the result. */
  async reportLocation(init: LocationInit = {}): Promise<{ seq: number; result: number }> {
    if (init.lat === undefined && init.lon === undefined) this.advance();
    const seq = this.seq;
    const a = await this.request({ type: 'location', ...this.locationBody(init) });
    return { seq, result: a.result };
  }

  /**
   * 0x0704 of `points` → one 0x8001. `blindArea` (default true) sends data_type 1 (盲区补报): history, never paged
   * live. A batch over one packet's 1023 bytes goes subpackaged (the answer is the last packet's).
   */
  async reportBatch(points: LocationInit[], opts: { blindArea?: boolean } = {}): Promise<{ seq: number; result: number }> {
    const body: Jt808Body = { type: 'location_batch', dataType: (opts.blindArea ?? true) ? BATCH_TYPE.BLIND_AREA : BATCH_TYPE.NORMAL, locations: points.map((p) => this.locationBody(p)) };
    const seq = this.seq;
    const a = await this.request(body);
    return { seq, result: a.result };
  }

  // ── platform messages ───────────────────────────────────────────────────────────────────────────────────────

  /** The next platform-initiated message matching `pred` (from `inbox`, removed), waiting up to `timeoutMs`. */
  async waitForMessage(pred: (m: Jt808Message) => boolean = () => true, timeoutMs = 10_000): Promise<Jt808Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Jt808Message;
      const left = deadline - Date.now();
      if (left <= 0) throw new Jt808TerminalError(`${this.phone}: no matching platform message within ${timeoutMs} ms`);
      if (this.closedFlag) throw new Jt808TerminalError(`${this.phone}: connection closed while waiting for a platform message`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.inboxWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Writes raw bytes (garbage, hand-made frames). */
  writeRaw(bytes: Buffer): void {
    this.socket?.write(bytes);
  }

  /** Closes the connection (a TCP close, not 0x0003). */
  close(): void {
    this.socket?.destroy();
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Sends a message and resolves with the platform's answer to it (0x8001 or 0x8100 naming its seq). */
  request(body: Jt808Body): Promise<Jt808Answer> {
    const socket = this.socket;
    if (!socket || this.closedFlag) return Promise.reject(new Jt808TerminalError(`${this.phone}: not connected`));
    const init = { version: this.version, phone: this.phone, seq: this.seq, protocolVersion: this.version === 2019 ? 1 : undefined };
    const frames = encodeBody(body, this.version).length > MAX_BODY_BYTES ? encodeSubpackaged(init, body, MAX_BODY_BYTES) : [encodeMessage(init, body)];
    // The answer names the packet completing the message: the last one.
    const answerSeq = (this.seq + frames.length - 1) & 0xffff;
    this.seq = (this.seq + frames.length) & 0xffff;
    return new Promise<Jt808Answer>((resolve, reject) => {
      const timeoutMs = this.opts.replyTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.pending.delete(answerSeq);
        this.stats.timeouts++;
        reject(new Jt808TerminalError(`${this.phone}: no answer to ${body.type} (seq ${answerSeq}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(answerSeq, { resolve, reject, timer });
      for (const f of frames) socket.write(f);
      this.stats.sent++;
    });
  }

  private onData(chunk: Buffer): void {
    for (const item of this.splitter.push(chunk)) {
      if (!item.ok) {
        this.stats.decodeErrors++;
        continue;
      }
      const p = decodePacket(item.frame);
      if (!p.ok) {
        this.stats.decodeErrors++;
        continue;
      }
      const b = decodeBody(p.value.header, p.value.body);
      if (!b.ok) {
        this.stats.decodeErrors++;
        continue;
      }
      this.onMessage({ header: p.value.header, body: b.value });
    }
  }

  private onMessage(msg: Jt808Message): void {
    const body = msg.body;
    if (body.type === 'platform_general_reply' || body.type === 'register_reply') {
      const p = this.pending.get(body.replySeq);
      if (!p) return; // a late answer after its timeout
      this.pending.delete(body.replySeq);
      clearTimeout(p.timer);
      this.stats.answers++;
      p.resolve(body.type === 'register_reply' ? { msgId: MSG.REGISTER_REPLY, result: body.result, authCode: body.authCode } : { msgId: MSG.PLATFORM_GENERAL_REPLY, result: body.result });
      return;
    }
    this.stats.platformMessages++;
    if (body.type === 'manual_alarm_confirmation' && (this.opts.honourConfirmations ?? true)) {
      this.clearAlarm(body.alarmType);
      this.answer(msg, 0);
    }
    if (this.opts.keepInbox ?? true) this.inbox.push(msg);
    this.opts.onPlatformMessage?.(msg);
    for (const w of this.inboxWaiters.splice(0)) w();
  }

  /** 0x0001 answering a platform message. */
  private answer(msg: Jt808Message, result: number): void {
    const socket = this.socket;
    if (!socket || this.closedFlag) return;
    socket.write(encodeMessage({ version: this.version, phone: this.phone, seq: this.seq, protocolVersion: this.version === 2019 ? 1 : undefined }, { type: 'terminal_general_reply', replySeq: msg.header.seq, replyMsgId: msg.header.msgId, result }));
    this.seq = (this.seq + 1) & 0xffff;
  }

  private onClosed(hadError: boolean): void {
    this.closedFlag = true;
    for (const [seq, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Jt808TerminalError(`${this.phone}: connection closed before the answer to seq ${seq}`));
    }
    this.pending.clear();
    for (const w of this.closeWaiters.splice(0)) w();
    for (const w of this.inboxWaiters.splice(0)) w();
    this.opts.onClose?.(hadError);
  }
}

/** Great-circle distance, km (equirectangular: exact enough for route legs of a few km). */
export function distanceKm(a: LatLon, b: LatLon): number {
  const dLat = (b[0] - a[0]) * KM_PER_DEG_LAT;
  const dLon = (b[1] - a[1]) * KM_PER_DEG_LAT * Math.cos((((a[0] + b[0]) / 2) * Math.PI) / 180);
  return Math.hypot(dLat, dLon);
}

/** Heading from a to b, degrees 0–359, north = 0, clockwise (JT/T 808 direction). */
export function headingDeg(a: LatLon, b: LatLon): number {
  const dLat = b[0] - a[0];
  const dLon = (b[1] - a[1]) * Math.cos((((a[0] + b[0]) / 2) * Math.PI) / 180);
  if (dLat === 0 && dLon === 0) return 0;
  const deg = (Math.atan2(dLon, dLat) * 180) / Math.PI;
  return Math.round((deg + 360) % 360) % 360;
}
