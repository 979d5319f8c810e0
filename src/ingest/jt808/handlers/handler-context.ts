import type { Logger } from '../../../lib/logger.js';
import type { AuthCodeRecord } from '../auth-code-store.js';
import type { Jt808Version } from '../codec/constants.js';
import type { Jt808Header } from '../codec/header.js';
import type { Jt808Body } from '../codec/message.js';
import type { Jt808RefusalReason, Jt808ServerContext } from '../server-context.js';

/** The authenticated terminal of a connection. */
export interface BoundSession {
  /** Normalized phone. */
  phone: string;
  tenant: string;
  deviceId: string;
  /** Edition of the header it authenticated with; platform messages go out in the same. */
  version: Jt808Version;
  protocolVersion?: number;
  /** The phone digits as the terminal sends them (12 or 20), reused in platform messages. */
  phoneAsSent: string;
  imei?: string;
  softwareVersion?: string;
}

/** What a handler may do with its connection. */
export interface HandlerContext {
  readonly ctx: Jt808ServerContext;
  readonly log: Logger;
  readonly session: BoundSession | undefined;
  /** 0x8001 answering `to` (reply_seq = its seq, reply_id = its msg id). */
  reply(to: Jt808Header, result: number): void;
  /** Any platform message, in the edition and to the phone of `to`. */
  send(to: Jt808Header, body: Jt808Body): void;
  /** 0x8001 result 1, counted under `reason`. */
  refuse(to: Jt808Header, reason: Jt808RefusalReason): void;
  /** Marks the connection as this terminal's session (replacing an older connection of the same phone). */
  authenticate(to: Jt808Header, record: AuthCodeRecord, info: { imei?: string; softwareVersion?: string }): void;
  /** Ends the session (0x0003); the connection stays open, unauthenticated. */
  logout(): void;
  /** Whether a retransmission key was remembered (bounded window of recent keys). */
  seen(key: string): boolean;
  remember(key: string): void;
}
