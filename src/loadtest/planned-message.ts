// The unit the load generator publishes: an MQTT message with the wall time it is due and the identity of the
// readings it carries (so an alert they cause can be traced back to its publication, alert-matching.ts).

/** One message of a load-test run. */
export interface PlannedMessage {
  /** Wall time it is due, epoch ms: the publisher never sends it earlier (later when it falls behind). */
  sendAtMs: number;
  topic: string;
  payload: string | Buffer;
  tenant: string;
  deviceId: string;
  /** Device times of the readings it carries, epoch ms (one; several for a `readings[]` batch; none when unknown). */
  readingTs: number[];
  /** Log its readings' publication for alert matching. False for readings that cannot raise anything (saves memory). */
  track: boolean;
}

/** Merges message streams, each in `sendAtMs` order, into one in that order (ties: the earlier stream first). */
export function* mergeBySendTime(...streams: Iterable<PlannedMessage>[]): Generator<PlannedMessage> {
  const its = streams.map((s) => s[Symbol.iterator]());
  const heads = its.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i] as IteratorResult<PlannedMessage>;
      if (h.done) continue;
      if (best < 0 || h.value.sendAtMs < (heads[best] as IteratorYieldResult<PlannedMessage>).value.sendAtMs) best = i;
    }
    if (best < 0) return;
    yield (heads[best] as IteratorYieldResult<PlannedMessage>).value;
    heads[best] = (its[best] as Iterator<PlannedMessage>).next();
  }
}
