import { GENERAL_RESULT } from '../codec/constants.js';
import type { Jt808Header } from '../codec/header.js';
import type { HandlerContext } from './handler-context.js';

/** 0x0002 → 0x8001 result 0 (domain.md §5.3). The connection's silence timer was reset when the frame arrived. */
export function handleHeartbeat(c: HandlerContext, h: Jt808Header): void {
  c.reply(h, GENERAL_RESULT.OK);
  const s = c.session;
  if (!s || !c.ctx.onHeartbeat) return;
  try {
    c.ctx.onHeartbeat(s.tenant, s.deviceId, s.phone);
  } catch (err) {
    c.log.error({ err, phone: s.phone }, 'onHeartbeat threw');
  }
}
