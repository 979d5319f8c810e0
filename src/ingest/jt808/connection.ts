import type { Socket } from 'node:net';
import type { Logger } from '../../lib/logger.js';
import type { AuthCodeRecord } from './auth-code-store.js';
import { GENERAL_RESULT } from './codec/constants.js';
import type { Jt808DecodeError } from './codec/decode-error.js';
import { Jt808FrameSplitter } from './codec/frame-splitter.js';
import type { Jt808Header } from './codec/header.js';
import { decodeBody, encodeMessage, type Jt808Body } from './codec/message.js';
import { decodePacket, replyHeaderInit } from './codec/packet.js';
import { Jt808Reassembler } from './codec/reassembler.js';
import { dispatch } from './handlers/dispatch.js';
import type { BoundSession, HandlerContext } from './handlers/handler-context.js';
import type { Jt808CloseReason, Jt808RefusalReason, Jt808ServerContext, Jt808ServerOptions } from './server-context.js';

/** What a connection needs of its server. */
export interface ConnectionHost {
  readonly ctx: Jt808ServerContext;
  readonly opts: Jt808ServerOptions;
  /** The connection authenticated: index it by phone, closing an older connection of the same phone. */
  bind(conn: Jt808Connection): void;
  /** The connection's session ended (logout, close); clears `conn.session`. */
  unbind(conn: Jt808Connection, reason: 'logout' | Jt808CloseReason): void;
  /** The socket closed. */
  closed(conn: Jt808Connection, reason: Jt808CloseReason): void;
}

/** Platform messages have msg ids ≥ 0x8000; only terminal messages are answered. */
const PLATFORM_MSG_MIN = 0x8000;

/**
 * One terminal TCP connection: stream → frames → packets → (reassembled) messages → handlers. Every failure is an
 * outcome (counted, answered when the header is known); too many in a row, or an oversized frame, closes it.
 */
export class Jt808Connection implements HandlerContext {
  readonly ctx: Jt808ServerContext;
  readonly log: Logger;
  readonly remoteAddress: string;
  readonly connectedAt: number;
  /** Gateway time of the last frame that passed the checksum. */
  lastSeenAt: number;
  /** Since when the connection has had no session: its open, or its logout. The auth timeout counts from here. */
  private unauthenticatedSince: number;
  session: BoundSession | undefined;
  private closeReason: Jt808CloseReason | undefined;
  private destroyTimer: NodeJS.Timeout | undefined;
  private platformSeq = 0;
  private consecutiveErrors = 0;
  private readonly splitter: Jt808FrameSplitter;
  private readonly reassembler: Jt808Reassembler;
  private readonly recentKeys: string[] = [];
  private readonly recentSet = new Set<string>();

  constructor(
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
    readonly id: number,
  ) {
    this.ctx = host.ctx;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.log = host.ctx.logger.child({ jt808Conn: id, remote: this.remoteAddress });
    this.connectedAt = host.ctx.clock.now();
    this.lastSeenAt = this.connectedAt;
    this.unauthenticatedSince = this.connectedAt;
    this.splitter = new Jt808FrameSplitter({ maxFrameBytes: host.opts.maxFrameBytes });
    this.reassembler = new Jt808Reassembler(host.ctx.clock, host.opts.reassembly);
  }

  /** Wires the socket. */
  start(): void {
    // ARCHITECTURE.md: small replies must not wait for delayed ACKs (Nagle).
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => {
      this.log.debug({ err: err.message }, 'jt808 socket error');
      this.closeReason ??= 'socket_error';
    });
    this.socket.on('close', () => {
      clearTimeout(this.destroyTimer);
      const reason = (this.closeReason ??= 'peer_closed');
      if (this.session) this.host.unbind(this, reason);
      this.host.closed(this, reason);
    });
  }

  get closing(): boolean {
    return this.closeReason !== undefined;
  }

  /** Checks the silence and authentication timeouts; drops stale reassemblies. */
  sweep(now: number): void {
    if (this.closing) return;
    if (now - this.lastSeenAt >= this.host.opts.heartbeatTimeoutMs) this.close('heartbeat_timeout');
    else if (!this.session && now - this.unauthenticatedSince >= this.host.opts.authTimeoutMs) this.close('auth_timeout');
    else this.reassembler.expire(now);
  }

  /** Closes the connection: at once, or after `stopGraceMs` of flushing when the server stops. */
  close(reason: Jt808CloseReason): void {
    if (this.closing) return;
    this.closeReason = reason;
    if (reason !== 'peer_closed' && reason !== 'server_stopped') this.log.info({ reason, phone: this.session?.phone }, 'jt808 connection closed');
    if (this.session) this.host.unbind(this, reason);
    if (reason === 'server_stopped') {
      this.socket.end();
      this.destroyTimer = setTimeout(() => this.socket.destroy(), this.host.opts.stopGraceMs);
      this.destroyTimer.unref();
    } else {
      this.socket.destroy();
    }
  }

  private onData(chunk: Buffer): void {
    for (const item of this.splitter.push(chunk)) {
      if (this.closing) return;
      if (!item.ok) {
        this.decodeFailed(item.error);
        this.close('oversized_frame');
        return;
      }
      try {
        this.onFrame(item.frame);
      } catch (err) {
        // A bug in a handler or a callback: logged and counted, the connection and the others carry on.
        this.log.error({ err }, 'jt808 frame handling failed');
        this.ctx.metrics?.refused?.('handler_failed');
      }
    }
  }

  private onFrame(frame: Buffer): void {
    const packet = decodePacket(frame);
    if (!packet.ok) return this.decodeFailed(packet.error);
    const h = packet.value.header;
    this.lastSeenAt = this.ctx.clock.now();
    this.ctx.metrics?.frameReceived?.(h.msgId);
    const whole = this.reassembler.push(packet.value);
    if (whole.status === 'error') return this.decodeFailed(whole.error);
    if (whole.status === 'pending') {
      // Each subpackage is acknowledged as it arrives; the packet completing the message gets the message's answer.
      if (h.msgId < PLATFORM_MSG_MIN) this.reply(h, GENERAL_RESULT.OK);
      return;
    }
    const { header, body: bytes } = whole.packet;
    const body = decodeBody(header, bytes);
    if (!body.ok) return this.decodeFailed(body.error);
    this.consecutiveErrors = 0;
    // Answers go to the packet that completed the message (its own seq when subpackaged).
    dispatch(this, { header: { ...header, seq: h.seq }, body: body.value }, fnv1a(bytes));
  }

  private decodeFailed(error: Jt808DecodeError): void {
    this.ctx.metrics?.decodeError?.(error.reason);
    this.log.debug({ reason: error.reason, message: error.message, msgId: error.header?.msgId, phone: error.header?.phone }, 'jt808 decode error');
    const h = error.header;
    if (h && h.msgId < PLATFORM_MSG_MIN) {
      const unsupported = error.reason === 'unknown_version' || error.reason === 'unsupported_encryption';
      this.reply(h, unsupported ? GENERAL_RESULT.UNSUPPORTED : GENERAL_RESULT.MALFORMED);
    }
    if (++this.consecutiveErrors >= this.host.opts.maxConsecutiveDecodeErrors) this.close('decode_errors');
  }

  reply(to: Jt808Header, result: number): void {
    this.send(to, { type: 'platform_general_reply', replySeq: to.seq, replyMsgId: to.msgId, result });
  }

  send(to: Jt808Header, body: Jt808Body): void {
    this.write(encodeMessage(replyHeaderInit(to, this.nextSeq()), body));
  }

  refuse(to: Jt808Header, reason: Jt808RefusalReason): void {
    this.ctx.metrics?.refused?.(reason);
    this.log.debug({ reason, msgId: to.msgId, phone: to.phone }, 'jt808 message refused');
    this.reply(to, GENERAL_RESULT.FAILURE);
  }

  /** A platform-initiated message to the authenticated terminal; false when there is none or it cannot be written. */
  sendToTerminal(body: Jt808Body): boolean {
    const s = this.session;
    if (!s) return false;
    const init = { version: s.version, phone: s.phoneAsSent, seq: this.nextSeq(), protocolVersion: s.protocolVersion };
    return this.write(encodeMessage(init, body));
  }

  authenticate(to: Jt808Header, record: AuthCodeRecord, info: { imei?: string; softwareVersion?: string }): void {
    const prev = this.session;
    const next: BoundSession = {
      phone: record.phone,
      tenant: record.tenant,
      deviceId: record.deviceId,
      version: to.version,
      protocolVersion: to.protocolVersion,
      phoneAsSent: to.phone,
      imei: info.imei,
      softwareVersion: info.softwareVersion,
    };
    if (prev && prev.phone === next.phone && prev.tenant === next.tenant && prev.deviceId === next.deviceId) {
      this.session = next; // re-authentication on the same connection: no offline/online flap
      return;
    }
    if (prev) this.host.unbind(this, 'replaced');
    this.session = next;
    this.host.bind(this);
  }

  logout(): void {
    if (!this.session) return;
    this.host.unbind(this, 'logout');
    this.unauthenticatedSince = this.ctx.clock.now(); // it may register again within authTimeoutMs
  }

  seen(key: string): boolean {
    return this.recentSet.has(key);
  }

  remember(key: string): void {
    if (this.recentSet.has(key)) return;
    this.recentKeys.push(key);
    this.recentSet.add(key);
    if (this.recentKeys.length > this.host.opts.dedupWindow) this.recentSet.delete(this.recentKeys.shift() as string);
  }

  private nextSeq(): number {
    const seq = this.platformSeq;
    this.platformSeq = (seq + 1) & 0xffff;
    return seq;
  }

  private write(frame: Buffer): boolean {
    if (this.closing || this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(frame);
    if (this.socket.writableLength > this.host.opts.maxWriteBufferBytes) {
      this.close('write_buffer_full');
      return false;
    }
    return true;
  }
}

/** FNV-1a, 32 bits: a cheap body fingerprint for the retransmission window. */
function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}
