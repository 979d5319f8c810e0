import type { TerminalRef } from '../auth-code-store.js';
import { normalizePhone } from '../codec/bcd.js';
import type { RegisterBody } from '../codec/bodies/register.js';
import { REGISTER_RESULT } from '../codec/constants.js';
import type { Jt808Header } from '../codec/header.js';
import type { HandlerContext } from './handler-context.js';

/**
 * 0x0100 → 0x8100 (domain.md §5.6 step 1). Steps:
 * 1. find the device by phone, then terminal id, then plate; none → 2 (no such vehicle) when a plate/VIN was sent,
 *    else 4 (no such terminal);
 * 2. the phone is bound to another device → 3 (terminal already registered);
 * 3. the device is bound to another phone → 1 (vehicle already registered) — an operator revokes the old binding;
 * 4. otherwise a fresh code, persisted, replacing the phone's earlier one (a terminal that lost its code re-registers).
 */
export function handleRegister(c: HandlerContext, h: Jt808Header, body: RegisterBody): void {
  const phone = normalizePhone(h.phone);
  const ref = lookup(c, phone, h.phone, body);
  const refuse = (result: number, why: string): void => {
    c.log.info({ phone, terminalId: body.terminalId, plate: body.plate, result }, `0x0100 refused: ${why}`);
    c.ctx.metrics?.refused?.('register_refused');
    c.send(h, { type: 'register_reply', replySeq: h.seq, result });
  };
  if (!ref) {
    if (body.plate !== '') refuse(REGISTER_RESULT.VEHICLE_UNKNOWN, 'no registry device matches phone, terminal id or plate');
    else refuse(REGISTER_RESULT.TERMINAL_UNKNOWN, 'no registry device matches phone or terminal id');
    return;
  }
  const store = c.ctx.authCodes;
  const byPhone = store.findByPhone(phone);
  if (byPhone && (byPhone.tenant !== ref.tenant || byPhone.deviceId !== ref.deviceId)) {
    refuse(REGISTER_RESULT.TERMINAL_TAKEN, `phone is bound to ${byPhone.tenant}/${byPhone.deviceId}`);
    return;
  }
  const byDevice = store.findByDevice(ref);
  if (byDevice && byDevice.phone !== phone) {
    refuse(REGISTER_RESULT.VEHICLE_TAKEN, `${ref.tenant}/${ref.deviceId} is bound to phone ${byDevice.phone}`);
    return;
  }
  const authCode = store.issue(phone, ref, c.ctx.clock.now());
  c.log.info({ phone, tenant: ref.tenant, deviceId: ref.deviceId }, '0x0100 registered; auth code issued');
  c.send(h, { type: 'register_reply', replySeq: h.seq, result: REGISTER_RESULT.OK, authCode });
}

function lookup(c: HandlerContext, phone: string, phoneAsSent: string, body: RegisterBody): TerminalRef | undefined {
  const find = c.ctx.findTerminal;
  return (
    find({ by: 'phone', phone, phoneAsSent }) ??
    (body.terminalId !== '' ? find({ by: 'terminal_id', terminalId: body.terminalId }) : undefined) ??
    (body.plate !== '' ? find({ by: 'plate', plate: body.plate, plateColor: body.plateColor }) : undefined)
  );
}
