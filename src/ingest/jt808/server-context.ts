import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { AuthCodeStore, TerminalRef } from './auth-code-store.js';
import { MAX_ESCAPED_FRAME_BYTES, type Jt808Version } from './codec/constants.js';
import type { Jt808DecodeReason } from './codec/decode-error.js';
import type { ReassemblerOptions } from './codec/reassembler.js';
import type { VehiclePayload } from './vehicle-payload.js';

/** Settings of a {@link Jt808Server}; every one has a default in {@link DEFAULT_JT808_SERVER_OPTIONS}. */
export interface Jt808ServerOptions {
  /** Interface to listen on. Default `0.0.0.0`. */
  host: string;
  /** TCP port; 0 picks a free one (read it from `Jt808Server.port`). Default 7611 (chosen: no port is standardised). */
  port: number;
  /** Open connections at most; one more is closed at once and counted. Default 10 000. */
  maxConnections: number;
  /**
   * Silence after which a connection is closed, ms: no valid frame of any kind (heartbeats, locations…). Default
   * 180 000 = 3 × the common 60 s heartbeat (terminal param 0x0001), so two lost heartbeats do not drop a terminal.
   */
  heartbeatTimeoutMs: number;
  /** A connection not authenticated this long after it opened is closed, ms (frees slots held by idle sockets). Default 60 000. */
  authTimeoutMs: number;
  /** Decode errors in a row after which a connection is closed as garbage; any good message resets the count. Default 5. */
  maxConsecutiveDecodeErrors: number;
  /** Largest escaped frame, bytes; a bigger one closes the connection. Default 2090 (`MAX_ESCAPED_FRAME_BYTES`). */
  maxFrameBytes: number;
  /** Bounds of subpackage reassembly, per connection. Default `DEFAULT_REASSEMBLER_OPTIONS`. */
  reassembly: Partial<ReassemblerOptions>;
  /** Recent 0x0200/0x0704 (msg id, seq, body hash) kept per connection to drop retransmissions (domain.md §5.6 step 4). Default 64. */
  dedupWindow: number;
  /** How often timeouts are checked, ms. Default 1000. */
  sweepIntervalMs: number;
  /** Bytes queued for a terminal that does not read, past which it is closed. Default 65 536. */
  maxWriteBufferBytes: number;
  /** `stop()` lets connections flush for this long before destroying them, ms. Default 2000. */
  stopGraceMs: number;
}

export const DEFAULT_JT808_SERVER_OPTIONS: Jt808ServerOptions = {
  host: '0.0.0.0',
  port: 7611,
  maxConnections: 10_000,
  heartbeatTimeoutMs: 180_000,
  authTimeoutMs: 60_000,
  maxConsecutiveDecodeErrors: 5,
  maxFrameBytes: MAX_ESCAPED_FRAME_BYTES,
  reassembly: {},
  dedupWindow: 64,
  sweepIntervalMs: 1_000,
  maxWriteBufferBytes: 65_536,
  stopGraceMs: 2_000,
};

/** One identifier of a registering terminal, looked up in this order: phone, terminal id, plate (first hit wins). */
export type TerminalQuery =
  /** `phone` without leading zeros; `phoneAsSent` with them (12 digits for 2013, 20 for 2019). */
  | { by: 'phone'; phone: string; phoneAsSent: string }
  | { by: 'terminal_id'; terminalId: string }
  /** Plate in GBK-decoded text, or the VIN when `plateColor` is 0. */
  | { by: 'plate'; plate: string; plateColor: number };

/** Why a connection closed. */
export type Jt808CloseReason =
  | 'peer_closed'
  | 'socket_error'
  | 'heartbeat_timeout'
  | 'auth_timeout'
  | 'decode_errors'
  | 'oversized_frame'
  | 'replaced'
  | 'write_buffer_full'
  | 'max_connections'
  | 'server_stopped';

/** Why a terminal message was answered with a refusal (or not served). */
export type Jt808RefusalReason = 'unauthenticated' | 'auth_failed' | 'register_refused' | 'unsupported' | 'handler_failed' | 'backpressure';

/** A terminal going online (authenticated) or offline (closed, logged out, replaced by a newer connection). */
export interface Jt808SessionEvent {
  state: 'online' | 'offline';
  /** Normalized phone (leading zeros dropped). */
  phone: string;
  tenant: string;
  deviceId: string;
  /** Gateway time, epoch ms. */
  at: number;
  reason: 'authenticated' | 'logout' | Jt808CloseReason;
  version: Jt808Version;
  remoteAddress?: string;
  /** From a 2019 0x0102. */
  imei?: string;
  softwareVersion?: string;
}

/** What came with a location besides its payload. */
export interface Jt808LocationMeta {
  /** True for 0x0704 data_type 1 (盲区补报): store it, evaluate it as history, never page it live. */
  history: boolean;
  phone: string;
  /** 0x0200 or 0x0704. */
  msgId: number;
  /** The terminal's msg_seq. */
  seq: number;
}

/** Metric hooks; each optional. The app maps them onto its prom-client metrics. */
export interface Jt808MetricHooks {
  /** A frame passed framing and checksum. */
  frameReceived?(msgId: number): void;
  decodeError?(reason: Jt808DecodeReason): void;
  refused?(reason: Jt808RefusalReason): void;
  /** A retransmitted 0x0200/0x0704 dropped (answered again, not forwarded). */
  duplicate?(msgId: number): void;
  /** Open connections and authenticated sessions, after every change. */
  sessions?(counts: { connections: number; online: number }): void;
  connectionClosed?(reason: Jt808CloseReason): void;
}

/** Everything a {@link Jt808Server} needs, injected (no imports of the app). */
export interface Jt808ServerContext {
  /** The registry lookup: registration is allowed only for devices it knows. */
  findTerminal(query: TerminalQuery): TerminalRef | undefined;
  authCodes: AuthCodeStore;
  /**
   * One location as the `vehicle` kind payload. Runs synchronously on the connection's data path; must not throw
   * (if it does, the terminal gets 0x8001 result 1 and retransmits).
   */
  onLocation(tenant: string, deviceId: string, payload: VehiclePayload, meta: Jt808LocationMeta): void;
  onSessionChange?(event: Jt808SessionEvent): void;
  /**
   * An authenticated terminal's 0x0002 heartbeat (after its answer is queued): a sign of life without a location, for
   * the offline rule (domain.md §5.9 counts 0x0002). Must not throw (a throw is logged, the answer already went).
   */
  onHeartbeat?(tenant: string, deviceId: string, phone: string): void;
  /**
   * Whether locations may be taken now; false (the store is backed up, the spool full) answers 0x0200/0x0704 with
   * 0x8001 result 1 and counts `backpressure`: the terminal keeps the points and retransmits. Default: always.
   */
  accepting?(): boolean;
  clock: Clock;
  logger: Logger;
  metrics?: Jt808MetricHooks;
  options?: Partial<Jt808ServerOptions>;
}
