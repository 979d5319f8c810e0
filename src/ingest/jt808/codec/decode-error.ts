import type { Jt808Header } from './header.js';

/**
 * Why input was not decoded, with the text the docs give for each. The `reason` label of the decode-error metric
 * (docs/jt808.md).
 */
export const DECODE_REASONS = {
  bad_frame: 'the bytes are not one 0x7e-delimited frame',
  bad_escape: '0x7d not followed by 0x01 or 0x02, or a bare 0x7e inside a frame',
  bad_checksum: 'the XOR checksum differs from the one sent',
  truncated: 'the input ends before a field it announces',
  bad_length: 'a length field disagrees with the bytes present (trailing bytes, wrong fixed size)',
  oversized: 'a frame or a reassembled message exceeds the configured bound',
  bad_bcd: 'a BCD nibble is above 9',
  bad_time: 'a BCD time is not a calendar date and time',
  unknown_version: 'the 2019 protocol version byte is not a supported version',
  unsupported_encryption: 'the body is encrypted (body_props bits 10–12), which is not supported',
  bad_subpackage: 'inconsistent subpackage fields (index 0, index above total, total 0) or a subpackage where a whole message is expected',
  internal_error: 'the decoder failed unexpectedly (a bug)',
} as const;

export type Jt808DecodeReason = keyof typeof DECODE_REASONS;

/** A decode failure, as an outcome: a reason code for metrics, a message for a person. */
export interface Jt808DecodeError {
  reason: Jt808DecodeReason;
  /** What was wrong and where: `body_props says 43 body bytes, frame holds 40`. */
  message: string;
  /** The header, when it was read before the failure (so the platform can still answer 0x8001 result 2/3). */
  header?: Jt808Header;
}

/** Every decoder returns this; none throws. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: Jt808DecodeError };

/** Internal: thrown deep in a decoder, caught by {@link decodeSafely} at the module boundary. */
export class DecodeFailure extends Error {
  constructor(
    readonly reason: Jt808DecodeReason,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeFailure';
  }
}

/** Internal: abort the current decode with a reason. */
export function fail(reason: Jt808DecodeReason, message: string): never {
  throw new DecodeFailure(reason, message);
}

/**
 * Runs a decoder and turns any failure — ours or an unexpected one — into a `DecodeResult`. `headerOf` gives the
 * header read so far, attached to the error.
 */
export function decodeSafely<T>(run: () => T, headerOf?: () => Jt808Header | undefined): DecodeResult<T> {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    const header = headerOf?.();
    if (err instanceof DecodeFailure) return { ok: false, error: withHeader({ reason: err.reason, message: err.message }, header) };
    return { ok: false, error: withHeader({ reason: 'internal_error', message: `decoder failed: ${(err as Error)?.message ?? String(err)}` }, header) };
  }
}

function withHeader(error: Jt808DecodeError, header: Jt808Header | undefined): Jt808DecodeError {
  if (header) error.header = header;
  return error;
}

/**
 * Thrown by encoders on arguments no frame can carry (a 21-digit phone, a year outside 2000–2099, a body over 1023
 * bytes unsubpackaged). A programming error of the caller, not a wire outcome.
 */
export class Jt808EncodeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'Jt808EncodeError';
  }
}
