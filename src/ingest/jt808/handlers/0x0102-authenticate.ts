import { normalizePhone } from '../codec/bcd.js';
import type { AuthenticateBody } from '../codec/bodies/authenticate.js';
import { GENERAL_RESULT } from '../codec/constants.js';
import type { Jt808Header } from '../codec/header.js';
import type { HandlerContext } from './handler-context.js';

/** 0x0102 → 0x8001 result 0, or 1 when the code is not the phone's current one (the terminal then re-registers, §5.6 step 2). */
export function handleAuthenticate(c: HandlerContext, h: Jt808Header, body: AuthenticateBody): void {
  const phone = normalizePhone(h.phone);
  const record = c.ctx.authCodes.check(phone, body.authCode);
  if (!record) {
    c.log.info({ phone }, '0x0102 refused: wrong or unknown auth code');
    c.refuse(h, 'auth_failed');
    return;
  }
  c.authenticate(h, record, { imei: body.imei, softwareVersion: body.softwareVersion });
  c.reply(h, GENERAL_RESULT.OK);
}
