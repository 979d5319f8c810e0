import type { LocationBody } from '../codec/bodies/location.js';
import { GENERAL_RESULT, MSG } from '../codec/constants.js';
import type { Jt808Header } from '../codec/header.js';
import { locationToVehiclePayload } from '../vehicle-payload.js';
import type { BoundSession, HandlerContext } from './handler-context.js';

/**
 * 0x0200 → `onLocation` (live) → 0x8001 result 0, or 1 when the callback threw (the terminal retransmits). A
 * retransmission of a report already forwarded is answered again but not forwarded (domain.md §5.6 step 4).
 */
export function handleLocation(c: HandlerContext, h: Jt808Header, body: LocationBody, bodyHash: number): void {
  if (answeredBefore(c, h, bodyHash) || backedUp(c, h)) return;
  const ok = forward(c, c.session as BoundSession, body, { history: false, msgId: MSG.LOCATION, seq: h.seq });
  if (ok) c.remember(retransmissionKey(h, bodyHash));
  c.reply(h, ok ? GENERAL_RESULT.OK : GENERAL_RESULT.FAILURE);
}

/** (msg id, seq, body hash): what identifies a retransmission (domain.md §5.6 step 4). */
export function retransmissionKey(h: Jt808Header, bodyHash: number): string {
  return `${h.msgId}:${h.seq}:${h.bodyLength}:${bodyHash}`;
}

/** True (and answered with result 0, counted) when this exact message was forwarded before. */
export function answeredBefore(c: HandlerContext, h: Jt808Header, bodyHash: number): boolean {
  if (!c.seen(retransmissionKey(h, bodyHash))) return false;
  c.ctx.metrics?.duplicate?.(h.msgId);
  c.log.debug({ phone: c.session?.phone, msgId: h.msgId, seq: h.seq }, 'retransmission answered, not forwarded');
  c.reply(h, GENERAL_RESULT.OK);
  return true;
}

/** True (and refused with result 1, counted) when the gateway takes no locations now: the terminal retransmits later. */
export function backedUp(c: HandlerContext, h: Jt808Header): boolean {
  if (c.ctx.accepting === undefined || c.ctx.accepting()) return false;
  c.refuse(h, 'backpressure');
  return true;
}

/** Calls `onLocation` for one point; false when it threw (logged and counted). */
export function forward(c: HandlerContext, s: BoundSession, loc: LocationBody, meta: { history: boolean; msgId: number; seq: number }): boolean {
  const payload = locationToVehiclePayload(loc, { seq: meta.seq, backfill: meta.history });
  try {
    c.ctx.onLocation(s.tenant, s.deviceId, payload, { ...meta, phone: s.phone });
    return true;
  } catch (err) {
    c.log.error({ err, phone: s.phone, msgId: meta.msgId, seq: meta.seq }, 'onLocation threw; answering 0x8001 result 1');
    c.ctx.metrics?.refused?.('handler_failed');
    return false;
  }
}
