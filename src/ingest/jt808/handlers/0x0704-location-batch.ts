import type { LocationBatchBody } from '../codec/bodies/location-batch.js';
import { BATCH_TYPE, GENERAL_RESULT, MSG } from '../codec/constants.js';
import type { Jt808Header } from '../codec/header.js';
import { answeredBefore, backedUp, forward, retransmissionKey } from './0x0200-location.js';
import type { BoundSession, HandlerContext } from './handler-context.js';

/**
 * 0x0704 → one `onLocation` per item, in order → one 0x8001. data_type 1 (盲区补报) items are `history: true` and
 * `backfill: true`; any other type is treated as a normal batch (domain.md §5.3).
 */
export function handleLocationBatch(c: HandlerContext, h: Jt808Header, body: LocationBatchBody, bodyHash: number): void {
  if (answeredBefore(c, h, bodyHash) || backedUp(c, h)) return;
  const session = c.session as BoundSession;
  const history = body.dataType === BATCH_TYPE.BLIND_AREA;
  let ok = true;
  for (const loc of body.locations) ok = forward(c, session, loc, { history, msgId: MSG.LOCATION_BATCH, seq: h.seq }) && ok;
  if (ok) c.remember(retransmissionKey(h, bodyHash));
  c.reply(h, ok ? GENERAL_RESULT.OK : GENERAL_RESULT.FAILURE);
}
