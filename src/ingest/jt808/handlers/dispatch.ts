import { normalizePhone } from '../codec/bcd.js';
import { GENERAL_RESULT } from '../codec/constants.js';
import type { Jt808Message } from '../codec/message.js';
import { handleTerminalReply } from './0x0001-terminal-reply.js';
import { handleHeartbeat } from './0x0002-heartbeat.js';
import { handleLogout } from './0x0003-logout.js';
import { handleRegister } from './0x0100-register.js';
import { handleAuthenticate } from './0x0102-authenticate.js';
import { handleLocation } from './0x0200-location.js';
import { handleLocationBatch } from './0x0704-location-batch.js';
import type { HandlerContext } from './handler-context.js';

/** Body types served before authentication; every other one is refused with 0x8001 result 1 until then. */
const OPEN_TYPES = new Set(['register', 'authenticate', 'terminal_general_reply']);

/**
 * One dispatcher, one handler per message. Guards first: a message from an unauthenticated connection — or carrying
 * another phone than the one authenticated — is refused, so one terminal cannot report for another. `bodyHash`
 * (FNV-1a of the body bytes) lets location handlers drop retransmissions.
 */
export function dispatch(c: HandlerContext, msg: Jt808Message, bodyHash: number): void {
  const { header: h, body } = msg;
  if (!OPEN_TYPES.has(body.type) && !isSessionOf(c, h.phone)) {
    c.refuse(h, 'unauthenticated');
    return;
  }
  switch (body.type) {
    case 'register':
      return handleRegister(c, h, body);
    case 'authenticate':
      return handleAuthenticate(c, h, body);
    case 'terminal_general_reply':
      return handleTerminalReply(c, h, body);
    case 'heartbeat':
      return handleHeartbeat(c, h);
    case 'logout':
      return handleLogout(c, h);
    case 'location':
      return handleLocation(c, h, body, bodyHash);
    case 'location_batch':
      return handleLocationBatch(c, h, body, bodyHash);
    default:
      // Platform-direction messages (0x8001, 0x8100, 0x8203) and ids we do not serve: 不支持.
      c.ctx.metrics?.refused?.('unsupported');
      c.reply(h, GENERAL_RESULT.UNSUPPORTED);
  }
}

function isSessionOf(c: HandlerContext, phone: string): boolean {
  const s = c.session;
  return s !== undefined && s.phone === normalizePhone(phone);
}
