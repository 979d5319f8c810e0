import { createServer, type Server, type Socket } from 'node:net';
import { normalizePhone } from './codec/bcd.js';
import { Jt808Connection, type ConnectionHost } from './connection.js';
import {
  DEFAULT_JT808_SERVER_OPTIONS,
  type Jt808CloseReason,
  type Jt808ServerContext,
  type Jt808ServerOptions,
  type Jt808SessionEvent,
} from './server-context.js';

/**
 * The JT/T 808 TCP endpoint (domain.md §5.6): terminals register (0x0100 → 0x8100), authenticate (0x0102 → 0x8001),
 * then report locations (0x0200, 0x0704) that go to `onLocation` as `vehicle` payloads. Sessions are keyed by the
 * normalized phone; a newer connection of the same phone replaces the older one. Constructing does nothing;
 * `start()` listens and `stop()` closes every connection.
 */
export class Jt808Server {
  private readonly ctx: Jt808ServerContext;
  private readonly opts: Jt808ServerOptions;
  private server: Server | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly connections = new Set<Jt808Connection>();
  private readonly sessions = new Map<string, Jt808Connection>();
  private nextConnId = 1;
  private readonly host: ConnectionHost;
  /** Resolved when the last connection has closed (`stop()` waits on them). */
  private drainWaiters: (() => void)[] = [];

  constructor(ctx: Jt808ServerContext) {
    this.ctx = ctx;
    this.opts = { ...DEFAULT_JT808_SERVER_OPTIONS, ...ctx.options };
    this.host = {
      ctx,
      opts: this.opts,
      bind: (conn) => this.bind(conn),
      unbind: (conn, reason) => this.unbind(conn, reason),
      closed: (conn, reason) => this.closed(conn, reason),
    };
  }

  /** Listens on `host:port`; resolves once bound, rejects on a listen error (port taken). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.ctx.logger.error({ err }, 'jt808 server error'));
    this.server = server;
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepIntervalMs);
    this.sweepTimer.unref();
    this.ctx.logger.info({ host: this.opts.host, port: this.port }, 'jt808 server listening');
  }

  /** The bound port (the real one when `port` was 0). Throws when not listening. */
  get port(): number {
    const addr = this.server?.address();
    if (!addr || typeof addr !== 'object') throw new Error('jt808 server is not listening');
    return addr.port;
  }

  /** Open TCP connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Authenticated terminals. */
  get onlineCount(): number {
    return this.sessions.size;
  }

  /** Whether the terminal with this phone (any number of leading zeros) holds an authenticated session. */
  isOnline(phone: string): boolean {
    return this.sessions.has(normalizePhone(phone));
  }

  /**
   * Sends 0x8203 (人工确认报警消息, domain.md §5.3) to an online terminal. `alarmSerial` is the msg_seq of the alarm's
   * 0x0200 (0 = all alarms of the given types); `alarmType` the alarm bits to confirm. Returns whether it was written
   * (not whether the terminal acknowledged it: that 0x0001 is only logged).
   */
  sendManualAlarmConfirmation(phone: string, alarmSerial: number, alarmType: number): boolean {
    const conn = this.sessions.get(normalizePhone(phone));
    if (!conn) return false;
    return conn.sendToTerminal({ type: 'manual_alarm_confirmation', alarmSerial, alarmType });
  }

  /** Stops accepting, ends every connection (each gets `stopGraceMs` to flush), resolves when all are closed. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    clearInterval(this.sweepTimer);
    const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    // net.Server's close callback can run before the sockets' own 'close' listeners: wait for ours too.
    const drained = new Promise<void>((resolve) => (this.connections.size === 0 ? resolve() : this.drainWaiters.push(resolve)));
    for (const conn of this.connections) conn.close('server_stopped');
    await Promise.all([listenerClosed, drained]);
    this.ctx.logger.info('jt808 server stopped');
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.opts.maxConnections) {
      this.ctx.metrics?.connectionClosed?.('max_connections');
      this.ctx.logger.warn({ remote: socket.remoteAddress, max: this.opts.maxConnections }, 'jt808 connection refused: max connections');
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const conn = new Jt808Connection(socket, this.host, this.nextConnId++);
    this.connections.add(conn);
    conn.start();
    this.reportCounts();
  }

  private sweep(): void {
    const now = this.ctx.clock.now();
    for (const conn of this.connections) conn.sweep(now);
  }

  private bind(conn: Jt808Connection): void {
    const s = conn.session;
    if (!s) return;
    const older = this.sessions.get(s.phone);
    if (older && older !== conn) older.close('replaced');
    this.sessions.set(s.phone, conn);
    this.ctx.logger.info({ phone: s.phone, tenant: s.tenant, deviceId: s.deviceId, version: s.version }, 'jt808 terminal online');
    this.emit(conn, 'online', 'authenticated');
    this.reportCounts();
  }

  private unbind(conn: Jt808Connection, reason: 'logout' | Jt808CloseReason): void {
    const s = conn.session;
    if (!s) return;
    conn.session = undefined;
    if (this.sessions.get(s.phone) === conn) this.sessions.delete(s.phone);
    this.ctx.logger.info({ phone: s.phone, tenant: s.tenant, deviceId: s.deviceId, reason }, 'jt808 terminal offline');
    this.emitFor(conn, s, 'offline', reason);
    this.reportCounts();
  }

  private closed(conn: Jt808Connection, reason: Jt808CloseReason): void {
    this.connections.delete(conn);
    this.ctx.metrics?.connectionClosed?.(reason);
    this.reportCounts();
    if (this.connections.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private emit(conn: Jt808Connection, state: Jt808SessionEvent['state'], reason: Jt808SessionEvent['reason']): void {
    if (conn.session) this.emitFor(conn, conn.session, state, reason);
  }

  private emitFor(conn: Jt808Connection, s: NonNullable<Jt808Connection['session']>, state: Jt808SessionEvent['state'], reason: Jt808SessionEvent['reason']): void {
    const hook = this.ctx.onSessionChange;
    if (!hook) return;
    const event: Jt808SessionEvent = {
      state,
      phone: s.phone,
      tenant: s.tenant,
      deviceId: s.deviceId,
      at: this.ctx.clock.now(),
      reason,
      version: s.version,
      remoteAddress: conn.remoteAddress,
    };
    if (s.imei !== undefined) event.imei = s.imei;
    if (s.softwareVersion !== undefined) event.softwareVersion = s.softwareVersion;
    try {
      hook(event);
    } catch (err) {
      this.ctx.logger.error({ err, phone: s.phone, state }, 'onSessionChange threw');
    }
  }

  private reportCounts(): void {
    this.ctx.metrics?.sessions?.({ connections: this.connections.size, online: this.sessions.size });
  }
}
