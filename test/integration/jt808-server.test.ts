import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  decodeBody,
  decodePacket,
  encodeMessage,
  encodeSubpackaged,
  GENERAL_RESULT,
  Jt808FrameSplitter,
  Jt808Server,
  MemoryAuthCodeStore,
  MSG,
  REGISTER_RESULT,
  type Jt808Body,
  type Jt808Message,
  type Jt808ServerOptions,
  type Jt808SessionEvent,
  type Jt808Version,
  type LocationBody,
  type TerminalQuery,
  type TerminalRef,
  type VehiclePayload,
} from '../../src/ingest/jt808/index.js';
import { FakeClock } from '../../src/lib/clock.js';

const logger = pino({ level: process.env.RG_TEST_LOG ?? 'silent' });
const WAIT_MS = 3000;

/** A JT/T 808 terminal over loopback TCP: sends frames, collects what the platform sends back. */
class Terminal {
  private readonly splitter = new Jt808FrameSplitter();
  private readonly inbox: Jt808Message[] = [];
  private waiter: (() => void) | undefined;
  private seq = 0;
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(
    private readonly socket: Socket,
    readonly phone: string,
    readonly version: Jt808Version,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const item of this.splitter.push(chunk)) {
        if (!item.ok) throw new Error(item.error.message);
        const p = decodePacket(item.frame);
        if (!p.ok) throw new Error(p.error.message);
        const b = decodeBody(p.value.header, p.value.body);
        if (!b.ok) throw new Error(b.error.message);
        this.inbox.push({ header: p.value.header, body: b.value });
      }
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.waiter?.();
        resolve();
      }),
    );
  }

  static async connect(port: number, phone = '13912345678', version: Jt808Version = 2019): Promise<Terminal> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true); // back-to-back small writes must not wait for delayed ACKs
    return new Terminal(socket, phone, version);
  }

  /** Sends a message; returns the seq it used. */
  send(body: Jt808Body): number {
    const seq = this.seq++;
    this.socket.write(encodeMessage({ version: this.version, phone: this.phone, seq }, body));
    return seq;
  }

  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next message the platform sent. */
  async next(): Promise<Jt808Message> {
    const deadline = Date.now() + WAIT_MS;
    while (this.inbox.length === 0) {
      if (this.isClosed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('no message from the platform');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.inbox.shift() as Jt808Message;
  }

  /** The next message, which must be a 0x8001; returns its body. */
  async generalReply(): Promise<{ replySeq: number; replyMsgId: number; result: number }> {
    const m = await this.next();
    if (m.body.type !== 'platform_general_reply') throw new Error(`expected 0x8001, got ${m.body.type}`);
    const { replySeq, replyMsgId, result } = m.body;
    return { replySeq, replyMsgId, result };
  }

  /** 0x0100 then 0x0102; returns the auth code. */
  async login(): Promise<string> {
    this.send(REGISTER_BODY(this.version));
    const reply = await this.next();
    if (reply.body.type !== 'register_reply' || reply.body.result !== 0 || !reply.body.authCode) throw new Error(`register refused: ${JSON.stringify(reply.body)}`);
    const code = reply.body.authCode;
    const seq = this.send(authBody(code, this.version));
    expect(await this.generalReply()).toEqual({ replySeq: seq, replyMsgId: MSG.AUTHENTICATE, result: 0 });
    return code;
  }

  end(): void {
    this.socket.destroy();
  }

  get inboxSize(): number {
    return this.inbox.length;
  }
}

const REGISTER_BODY = (version: Jt808Version, plate = '川A12345', terminalId = 'A1B2C3D'): Jt808Body => ({
  type: 'register',
  layout: version === 2019 ? 2019 : 2013,
  provinceId: 51,
  cityId: 100,
  makerId: '70111',
  model: 'JT808-X1',
  terminalId,
  plateColor: 2,
  plate,
});

const authBody = (authCode: string, version: Jt808Version): Jt808Body =>
  version === 2019 ? { type: 'authenticate', authCode, imei: '861234567890123', softwareVersion: 'V1.0.0' } : { type: 'authenticate', authCode };

/** A location at gateway time `at`, with bytes 0x7e/0x7d in its fields. */
const LOCATION = (at: number, extra: Partial<LocationBody> = {}): LocationBody => ({
  alarmBits: 0x7e,
  statusBits: 0b11,
  latE6: 30_657_420,
  lonE6: 104_065_840,
  altitudeM: 500,
  speedDeciKmh: 0x7d,
  direction: 90,
  time: Math.floor(at / 1000) * 1000,
  extras: [{ id: 0x01, value: 0x7e7d7e }],
  ...extra,
});

/** The registry: t3 holds two trucks, found by phone (12-digit device id), terminal id or plate. */
const DEVICES: (TerminalRef & { phone: string; terminalId: string; plate: string })[] = [
  { tenant: 't3', deviceId: '013912345678', phone: '13912345678', terminalId: 'A1B2C3D', plate: '川A12345' },
  { tenant: 't3', deviceId: '013912345679', phone: '13912345679', terminalId: 'A1B2C3E', plate: '川A23456' },
  { tenant: 't3', deviceId: 'plate-only', phone: '', terminalId: '', plate: '川A99999' },
];

function findTerminal(q: TerminalQuery): TerminalRef | undefined {
  const d = DEVICES.find((x) => (q.by === 'phone' ? x.phone === q.phone : q.by === 'terminal_id' ? x.terminalId === q.terminalId : x.plate === q.plate));
  return d && { tenant: d.tenant, deviceId: d.deviceId };
}

interface Harness {
  server: Jt808Server;
  clock: FakeClock;
  authCodes: MemoryAuthCodeStore;
  locations: { tenant: string; deviceId: string; payload: VehiclePayload; history: boolean; seq: number }[];
  events: Jt808SessionEvent[];
  counts: Record<string, number>;
  terminals: Terminal[];
  connect(phone?: string, version?: Jt808Version): Promise<Terminal>;
}

async function startHarness(options: Partial<Jt808ServerOptions> = {}): Promise<Harness> {
  const clock = new FakeClock(Date.now());
  const counts: Record<string, number> = {};
  const count = (key: string): void => void (counts[key] = (counts[key] ?? 0) + 1);
  const h: Omit<Harness, 'server' | 'connect'> = { clock, authCodes: new MemoryAuthCodeStore(), locations: [], events: [], counts, terminals: [] };
  const server = new Jt808Server({
    findTerminal,
    authCodes: h.authCodes,
    onLocation: (tenant, deviceId, payload, meta) => void h.locations.push({ tenant, deviceId, payload, history: meta.history, seq: meta.seq }),
    onSessionChange: (e) => void h.events.push(e),
    clock,
    logger,
    metrics: {
      frameReceived: (id) => count(`frame:0x${id.toString(16).padStart(4, '0')}`),
      decodeError: (reason) => count(`decode:${reason}`),
      refused: (reason) => count(`refused:${reason}`),
      duplicate: () => count('duplicate'),
      connectionClosed: (reason) => count(`closed:${reason}`),
    },
    options: { host: '127.0.0.1', port: 0, sweepIntervalMs: 20, ...options },
  });
  await server.start();
  const harness: Harness = {
    ...h,
    server,
    async connect(phone, version) {
      const t = await Terminal.connect(server.port, phone, version);
      h.terminals.push(t);
      return t;
    },
  };
  return harness;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ingest/jt808 server (loopback TCP)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    for (const t of h.terminals) t.end();
    await h.server.stop();
  });

  test.each([2019, 2013] as const)('%i terminal: register → authenticate → location → 0x8001, forwarded as a vehicle payload', async (version) => {
    const t = await h.connect('13912345678', version);
    await t.login();
    expect(h.server.isOnline('013912345678')).toBe(true);
    const seq = t.send({ type: 'location', ...LOCATION(h.clock.now()) });
    expect(await t.generalReply()).toEqual({ replySeq: seq, replyMsgId: MSG.LOCATION, result: GENERAL_RESULT.OK });
    expect(h.locations).toHaveLength(1);
    expect(h.locations[0]).toMatchObject({ tenant: 't3', deviceId: '013912345678', history: false, seq });
    expect(h.locations[0]?.payload).toMatchObject({ seq, data: { lat: 30.65742, speed_kmh: 12.5, alarm_bits: 0x7e, mileage_km: 0x7e7d7e / 10, acc_on: true } });
    expect(h.events).toEqual([expect.objectContaining({ state: 'online', phone: '13912345678', tenant: 't3', deviceId: '013912345678', reason: 'authenticated', version })]);
    if (version === 2019) expect(h.events[0]).toMatchObject({ imei: '861234567890123', softwareVersion: 'V1.0.0' });
    // Heartbeats are answered too.
    const hb = t.send({ type: 'heartbeat' });
    expect(await t.generalReply()).toEqual({ replySeq: hb, replyMsgId: MSG.HEARTBEAT, result: 0 });
  });

  test('a terminal reconnecting later authenticates with its stored code, without registering again', async () => {
    const t1 = await h.connect();
    const code = await t1.login();
    t1.end();
    await until(() => h.events.some((e) => e.state === 'offline'), 'offline event');
    expect(h.events.at(-1)).toMatchObject({ state: 'offline', reason: 'peer_closed' });
    const t2 = await h.connect();
    const seq = t2.send(authBody(code, 2019));
    expect(await t2.generalReply()).toEqual({ replySeq: seq, replyMsgId: MSG.AUTHENTICATE, result: 0 });
  });

  test('a location or a batch before authentication is refused with result 1 and counted', async () => {
    const t = await h.connect();
    const a = t.send({ type: 'location', ...LOCATION(h.clock.now()) });
    const b = t.send({ type: 'location_batch', dataType: 0, locations: [LOCATION(h.clock.now())] });
    const c = t.send({ type: 'heartbeat' });
    expect(await t.generalReply()).toEqual({ replySeq: a, replyMsgId: MSG.LOCATION, result: GENERAL_RESULT.FAILURE });
    expect(await t.generalReply()).toEqual({ replySeq: b, replyMsgId: MSG.LOCATION_BATCH, result: GENERAL_RESULT.FAILURE });
    expect(await t.generalReply()).toEqual({ replySeq: c, replyMsgId: MSG.HEARTBEAT, result: GENERAL_RESULT.FAILURE });
    expect(h.locations).toEqual([]);
    expect(h.counts['refused:unauthenticated']).toBe(3);
  });

  test('an authenticated connection cannot report for another phone', async () => {
    const t = await h.connect();
    await t.login();
    // Same socket, another phone in the header.
    const frame = encodeMessage({ version: 2019, phone: '13912345679', seq: 77 }, { type: 'location', ...LOCATION(h.clock.now()) });
    t.raw(frame);
    expect(await t.generalReply()).toEqual({ replySeq: 77, replyMsgId: MSG.LOCATION, result: GENERAL_RESULT.FAILURE });
    expect(h.locations).toEqual([]);
  });

  test('a wrong auth code is refused with result 1; the terminal may then register again', async () => {
    const t = await h.connect();
    t.send(REGISTER_BODY(2019));
    await t.next();
    const seq = t.send(authBody('NOT-THE-CODE', 2019));
    expect(await t.generalReply()).toEqual({ replySeq: seq, replyMsgId: MSG.AUTHENTICATE, result: GENERAL_RESULT.FAILURE });
    expect(h.counts['refused:auth_failed']).toBe(1);
    expect(h.server.isOnline('13912345678')).toBe(false);
    await t.login();
    expect(h.server.isOnline('13912345678')).toBe(true);
  });

  test.each([
    { name: 'an unknown vehicle (plate sent)', phone: '18800000000', plate: '川Z00000', terminalId: 'ZZZ', result: REGISTER_RESULT.VEHICLE_UNKNOWN },
    { name: 'an unknown terminal (no plate)', phone: '18800000000', plate: '', terminalId: 'ZZZ', result: REGISTER_RESULT.TERMINAL_UNKNOWN },
  ])('registration of $name is refused with 0x8100 result $result', async ({ phone, plate, terminalId, result }) => {
    const t = await h.connect(phone);
    const seq = t.send(REGISTER_BODY(2019, plate, terminalId));
    const m = await t.next();
    expect(m.body).toEqual({ type: 'register_reply', replySeq: seq, result });
    expect(h.counts['refused:register_refused']).toBe(1);
  });

  test('a device is found by plate when phone and terminal id are unknown; a second terminal for it gets result 1, and a bound phone asking for another vehicle gets 3', async () => {
    const t = await h.connect('18800000001');
    t.send(REGISTER_BODY(2019, '川A99999', 'NEW'));
    expect((await t.next()).body).toMatchObject({ type: 'register_reply', result: REGISTER_RESULT.OK });
    const t2 = await h.connect('18800000002');
    t2.send(REGISTER_BODY(2019, '川A99999', 'NEWER'));
    expect((await t2.next()).body).toMatchObject({ type: 'register_reply', result: REGISTER_RESULT.VEHICLE_TAKEN });
    // 18800000001 is bound to plate-only; registering it as the vehicle of 川A23456 (terminal A1B2C3E) is refused.
    t.send(REGISTER_BODY(2019, '川A23456', 'A1B2C3E'));
    expect((await t.next()).body).toMatchObject({ type: 'register_reply', result: REGISTER_RESULT.TERMINAL_TAKEN });
  });

  test('0x0704 type 1 (blind-area re-upload) is forwarded as history and backfill; type 0 as live', async () => {
    const t = await h.connect();
    await t.login();
    const now = h.clock.now();
    const seq = t.send({ type: 'location_batch', dataType: 1, locations: [LOCATION(now - 600_000), LOCATION(now - 590_000)] });
    expect(await t.generalReply()).toEqual({ replySeq: seq, replyMsgId: MSG.LOCATION_BATCH, result: 0 });
    t.send({ type: 'location_batch', dataType: 0, locations: [LOCATION(now)] });
    await t.generalReply();
    expect(h.locations.map((l) => [l.history, l.payload.data.backfill, l.payload.ts])).toEqual([
      [true, true, Math.floor((now - 600_000) / 1000) * 1000],
      [true, true, Math.floor((now - 590_000) / 1000) * 1000],
      [false, undefined, Math.floor(now / 1000) * 1000],
    ]);
  });

  test('frames split across TCP writes and concatenated in one write are all served', async () => {
    const t = await h.connect();
    await t.login();
    const frames = [0, 1, 2].map((i) => encodeMessage({ version: 2019, phone: '13912345678', seq: 100 + i }, { type: 'location', ...LOCATION(h.clock.now() + i * 1000) }));
    const stream = Buffer.concat(frames);
    // byte-by-byte for the first frame, then the rest in two uneven writes
    for (const b of frames[0] as Buffer) {
      t.raw(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    const rest = stream.subarray((frames[0] as Buffer).length);
    t.raw(rest.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 5));
    t.raw(rest.subarray(7));
    const replies = [await t.generalReply(), await t.generalReply(), await t.generalReply()];
    expect(replies.map((r) => r.replySeq)).toEqual([100, 101, 102]);
    expect(h.locations).toHaveLength(3);
  });

  test('a subpackaged 0x0704 is acknowledged packet by packet and forwarded once complete', async () => {
    const t = await h.connect();
    await t.login();
    const body: Jt808Body = { type: 'location_batch', dataType: 1, locations: Array.from({ length: 40 }, (_, i) => LOCATION(h.clock.now() - i * 1000)) };
    const frames = encodeSubpackaged({ version: 2019, phone: '13912345678', seq: 500 }, body, 512);
    expect(frames.length).toBeGreaterThan(1);
    t.raw(Buffer.concat(frames));
    for (let i = 0; i < frames.length; i++) expect(await t.generalReply()).toEqual({ replySeq: 500 + i, replyMsgId: MSG.LOCATION_BATCH, result: 0 });
    expect(h.locations).toHaveLength(40);
  });

  test('a retransmitted location is answered again but forwarded once', async () => {
    const t = await h.connect();
    await t.login();
    const frame = encodeMessage({ version: 2019, phone: '13912345678', seq: 9 }, { type: 'location', ...LOCATION(h.clock.now()) });
    t.raw(frame);
    t.raw(frame);
    expect((await t.generalReply()).result).toBe(0);
    expect((await t.generalReply()).result).toBe(0);
    expect(h.locations).toHaveLength(1);
    expect(h.counts.duplicate).toBe(1);
  });

  test('a message id the gateway does not serve is answered 3 (unsupported); a malformed body 2', async () => {
    const t = await h.connect();
    await t.login();
    const a = t.send({ type: 'unknown', msgId: 0x0900, raw: Buffer.from('passthrough') });
    expect(await t.generalReply()).toEqual({ replySeq: a, replyMsgId: 0x0900, result: GENERAL_RESULT.UNSUPPORTED });
    const b = t.send({ type: 'unknown', msgId: MSG.LOCATION, raw: Buffer.alloc(10) });
    expect(await t.generalReply()).toEqual({ replySeq: b, replyMsgId: MSG.LOCATION, result: GENERAL_RESULT.MALFORMED });
    expect(h.counts['decode:truncated']).toBe(1);
  });

  test('sendManualAlarmConfirmation sends 0x8203 to an online terminal and returns false otherwise', async () => {
    expect(h.server.sendManualAlarmConfirmation('13912345678', 5, 1)).toBe(false);
    const t = await h.connect();
    await t.login();
    expect(h.server.sendManualAlarmConfirmation('013912345678', 0x7d, (1 << 0) | (1 << 20))).toBe(true);
    const m = await t.next();
    expect(m.header).toMatchObject({ msgId: MSG.MANUAL_ALARM_CONFIRMATION, version: 2019, phone: '00000000013912345678' });
    expect(m.body).toEqual({ type: 'manual_alarm_confirmation', alarmSerial: 0x7d, alarmType: (1 << 0) | (1 << 20) });
    // The terminal's 0x0001 acknowledging it is not answered.
    t.send({ type: 'terminal_general_reply', replySeq: m.header.seq, replyMsgId: MSG.MANUAL_ALARM_CONFIRMATION, result: 0 });
    const hb = t.send({ type: 'heartbeat' });
    expect((await t.generalReply()).replySeq).toBe(hb);
  });

  test('0x0003 logout revokes the code: the next 0x0102 with it is refused', async () => {
    const t = await h.connect();
    const code = await t.login();
    const seq = t.send({ type: 'logout' });
    expect(await t.generalReply()).toEqual({ replySeq: seq, replyMsgId: MSG.LOGOUT, result: 0 });
    expect(h.events.at(-1)).toMatchObject({ state: 'offline', reason: 'logout' });
    t.send(authBody(code, 2019));
    expect((await t.generalReply()).result).toBe(GENERAL_RESULT.FAILURE);
  });

  test('after a logout the connection gets a fresh auth timeout to register again', async () => {
    const t = await h.connect();
    await t.login();
    h.clock.advance(120_000);
    t.send({ type: 'logout' });
    await t.generalReply();
    await new Promise((r) => setTimeout(r, 80));
    expect(h.counts['closed:auth_timeout']).toBeUndefined();
    await t.login();
    expect(h.server.isOnline('13912345678')).toBe(true);
  });

  test('a newer connection of the same phone replaces the older one', async () => {
    const t1 = await h.connect();
    const code = await t1.login();
    const t2 = await h.connect();
    t2.send(authBody(code, 2019));
    await t2.generalReply();
    await t1.closed;
    expect(h.server.onlineCount).toBe(1);
    expect(h.events.map((e) => `${e.state}:${e.reason}`)).toEqual(['online:authenticated', 'offline:replaced', 'online:authenticated']);
    expect(h.server.sendManualAlarmConfirmation('13912345678', 1, 1)).toBe(true);
    expect((await t2.next()).body.type).toBe('manual_alarm_confirmation');
  });

  test('silence past the heartbeat timeout (default 180 s) closes the session', async () => {
    const t = await h.connect();
    await t.login();
    h.clock.advance(179_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(h.server.isOnline('13912345678')).toBe(true);
    t.send({ type: 'heartbeat' });
    await t.generalReply();
    h.clock.advance(179_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(h.server.isOnline('13912345678')).toBe(true); // the heartbeat reset the timer
    h.clock.advance(1_000);
    await t.closed;
    expect(h.events.at(-1)).toMatchObject({ state: 'offline', reason: 'heartbeat_timeout' });
    await until(() => h.counts['closed:heartbeat_timeout'] === 1, 'heartbeat_timeout close');
  });

  test('a connection that never authenticates is closed after the auth timeout (default 60 s), even while sending heartbeats', async () => {
    const t = await h.connect();
    t.send({ type: 'heartbeat' });
    await t.generalReply();
    h.clock.advance(60_000);
    await t.closed;
    await until(() => h.counts['closed:auth_timeout'] === 1, 'auth_timeout close');
  });

  test('a garbage connection is closed after 5 decode errors while a second connection keeps working', async () => {
    const good = await h.connect();
    await good.login();
    const bad = await h.connect('13912345679');
    for (let i = 0; i < 5; i++) bad.raw(Buffer.from(`\x7egarbage ${i}\x7e`));
    await bad.closed;
    await until(() => h.counts['closed:decode_errors'] === 1, 'decode_errors close');
    expect(Object.entries(h.counts).filter(([k]) => k.startsWith('decode:')).reduce((n, [, v]) => n + v, 0)).toBe(5);
    const seq = good.send({ type: 'location', ...LOCATION(h.clock.now()) });
    expect(await good.generalReply()).toMatchObject({ replySeq: seq, result: 0 });
  });

  test('good messages between decode errors keep a connection open', async () => {
    const t = await h.connect();
    await t.login();
    for (let i = 0; i < 8; i++) {
      t.raw(Buffer.from('\x7e00\x7e'));
      t.send({ type: 'heartbeat' });
      await t.generalReply();
    }
    expect(h.counts['decode:truncated']).toBe(8);
    expect(h.server.isOnline('13912345678')).toBe(true);
  });

  test('an oversized frame closes the connection at once', async () => {
    const t = await h.connect();
    await t.login();
    t.raw(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(5000, 0x41)]));
    await t.closed;
    expect(h.counts['decode:oversized']).toBe(1);
    await until(() => h.counts['closed:oversized_frame'] === 1, 'oversized_frame close');
    expect(h.events.at(-1)).toMatchObject({ state: 'offline', reason: 'oversized_frame' });
  });

  test('an onLocation that throws gets result 1, and the connection carries on', async () => {
    await h.server.stop();
    const clock = new FakeClock(Date.now());
    const server = new Jt808Server({
      findTerminal,
      authCodes: new MemoryAuthCodeStore(),
      onLocation: () => {
        throw new Error('sink down');
      },
      clock,
      logger,
      options: { host: '127.0.0.1', port: 0 },
    });
    await server.start();
    h.server = server;
    const t = await Terminal.connect(server.port);
    h.terminals.push(t);
    await t.login();
    const seq = t.send({ type: 'location', ...LOCATION(clock.now()) });
    expect(await t.generalReply()).toEqual({ replySeq: seq, replyMsgId: MSG.LOCATION, result: GENERAL_RESULT.FAILURE });
    const hb = t.send({ type: 'heartbeat' });
    expect((await t.generalReply()).replySeq).toBe(hb);
  });
});

describe('ingest/jt808 server limits and shutdown', () => {
  test('connections beyond maxConnections are closed at once and counted', async () => {
    const h = await startHarness({ maxConnections: 2 });
    try {
      const a = await h.connect();
      const b = await h.connect();
      await until(() => h.server.connectionCount === 2, 'two connections');
      const c = await h.connect();
      await c.closed;
      await until(() => h.counts['closed:max_connections'] === 1, 'max_connections refusal');
      await a.login();
      expect(b.inboxSize).toBe(0);
    } finally {
      for (const t of h.terminals) t.end();
      await h.server.stop();
    }
  });

  test('stop() closes every connection, reports them offline and frees the port', async () => {
    const h = await startHarness();
    const port = h.server.port;
    const t = await h.connect();
    await t.login();
    const idle = await h.connect('13912345679');
    await h.server.stop();
    await Promise.all([t.closed, idle.closed]);
    expect(h.events.at(-1)).toMatchObject({ state: 'offline', reason: 'server_stopped' });
    expect(h.server.connectionCount).toBe(0);
    await expect(Terminal.connect(port)).rejects.toThrow(/ECONNREFUSED/);
    await h.server.stop(); // idempotent
  });

  test('start() rejects when the port is taken', async () => {
    const h = await startHarness();
    try {
      const clash = new Jt808Server({ findTerminal, authCodes: new MemoryAuthCodeStore(), onLocation: () => undefined, clock: h.clock, logger, options: { host: '127.0.0.1', port: h.server.port } });
      await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await h.server.stop();
    }
  });
});
