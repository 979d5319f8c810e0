import { parseDeviceTime } from '../kinds/envelope.js';
import type { CaptureMessage } from './capture-format.js';

// --rebase-time: every device time in a capture moves by one offset per pass, so old recordings fall inside the
// gateway's accepted window (INGEST_MAX_AGE_MS back, INGEST_MAX_FUTURE_MS ahead) while the spacing between readings,
// which the rules' `for` durations and rates are measured on, stays exactly as recorded.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A payload's device time as epoch ms (wire contract: ISO-8601, zone-less = Beijing time, or epoch ms). */
function deviceTs(value: unknown): number | undefined {
  return typeof value === 'string' || typeof value === 'number' ? parseDeviceTime(value) : undefined;
}

/** Latest device time in the capture's JSON payloads (`ts` and `readings[].ts`), epoch ms; undefined when none. */
export function latestDeviceTs(messages: readonly CaptureMessage[]): number | undefined {
  let latest: number | undefined;
  const see = (v: unknown): void => {
    const ts = deviceTs(v);
    if (ts !== undefined && (latest === undefined || ts > latest)) latest = ts;
  };
  for (const m of messages) {
    const p = m.payload;
    if (!isObject(p)) continue;
    if ('ts' in p) see(p.ts);
    if (Array.isArray(p.readings)) for (const r of p.readings) if (isObject(r)) see(r.ts);
  }
  return latest;
}

/**
 * A copy of the payload with its device times moved by `offsetMs` and written as epoch ms (a time string cannot be
 * shifted without re-deriving its zone). Anything that is not the wire envelope is returned unchanged.
 */
export function shiftPayload(payload: unknown, offsetMs: number): unknown {
  if (!isObject(payload)) return payload;
  const shiftEntry = (e: Record<string, unknown>): Record<string, unknown> => {
    const ts = deviceTs(e.ts);
    return ts === undefined ? e : { ...e, ts: ts + offsetMs };
  };
  if (Array.isArray(payload.readings)) {
    return { ...payload, readings: payload.readings.map((r: unknown) => (isObject(r) ? shiftEntry(r) : r)) };
  }
  return 'ts' in payload ? shiftEntry(payload) : payload;
}

/**
 * The offset of one pass. The latest reading lands at the moment its message is due to be sent, so no reading is
 * ever ahead of the gateway's clock. At 1× that puts every reading at its send time (the recording relived now);
 * faster, readings lie up to (span − span/speed) in the past; at max speed the whole recording ends "now".
 *
 * @param passStartMs wall time the pass starts, epoch ms
 * @param lastT the last message's offset `t`, ms
 * @param speed playback factor; `Infinity` for max
 * @param latestTs {@link latestDeviceTs} of the capture
 */
export function rebaseOffsetMs(passStartMs: number, lastT: number, speed: number, latestTs: number): number {
  const lastSendMs = passStartMs + (Number.isFinite(speed) ? lastT / speed : 0);
  return Math.round(lastSendMs - latestTs);
}
