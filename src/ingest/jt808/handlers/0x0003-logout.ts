import { normalizePhone } from '../codec/bcd.js';
import { GENERAL_RESULT } from '../codec/constants.js';
import type { Jt808Header } from '../codec/header.js';
import type { HandlerContext } from './handler-context.js';

/** 0x0003 → 0x8001 result 0; the auth code is revoked, so the terminal must register again (domain.md §5.6 step 1). */
export function handleLogout(c: HandlerContext, h: Jt808Header): void {
  c.ctx.authCodes.revoke(normalizePhone(h.phone));
  c.reply(h, GENERAL_RESULT.OK);
  c.logout();
}
