import type { ErrorCode } from '../lib/errors.js';

/** Why a message or reading was rejected; the `reason` label of `riskgate_readings_rejected_total`. */
export const REJECT_REASONS = {
  bad_topic: 'RG_ERR_INGEST_BAD_TOPIC',
  unknown_device: 'RG_ERR_INGEST_UNKNOWN_DEVICE',
  kind_mismatch: 'RG_ERR_INGEST_KIND_MISMATCH',
  malformed_json: 'RG_ERR_INGEST_MALFORMED_JSON',
  schema_violation: 'RG_ERR_INGEST_SCHEMA_VIOLATION',
  payload_too_large: 'RG_ERR_INGEST_PAYLOAD_TOO_LARGE',
  timestamp_out_of_window: 'RG_ERR_INGEST_TIMESTAMP_OUT_OF_WINDOW',
  rate_limited: 'RG_ERR_RATE_LIMITED',
  internal_error: 'RG_ERR_INTERNAL',
} as const satisfies Record<string, ErrorCode>;

export type RejectReason = keyof typeof REJECT_REASONS;

/** One rejected message (or one rejected entry of a `readings[]` batch). */
export interface DeadLetter {
  /** Increasing id, for paging. */
  id: number;
  /** Gateway time of the reject, epoch ms. */
  at: number;
  reason: RejectReason;
  code: ErrorCode;
  /** `mqtt`, `http`, `jt808`. */
  source: string;
  topic?: string;
  tenant?: string;
  deviceId?: string;
  /** Field path of a schema violation (`data.concentration_lel`, `readings[3].ts`). */
  path?: string;
  /** What was wrong, for a person: which field, which rule. */
  message: string;
  /** The first bytes of the payload (UTF-8, or base64 when not text). */
  payload?: string;
  payloadBytes?: number;
}

export const DEAD_LETTER_PAYLOAD_EXCERPT_BYTES = 1024;

/** The last N rejects in a ring buffer: bounded memory, newest first on read. */
export class DeadLetterLog {
  private readonly buf: (DeadLetter | undefined)[];
  private next = 0;
  private nextId = 1;

  constructor(readonly capacity: number) {
    this.buf = new Array<DeadLetter | undefined>(capacity);
  }

  add(entry: Omit<DeadLetter, 'id' | 'code'>): DeadLetter {
    const full: DeadLetter = { id: this.nextId++, code: REJECT_REASONS[entry.reason], ...entry };
    this.buf[this.next] = full;
    this.next = (this.next + 1) % this.capacity;
    return full;
  }

  get size(): number {
    return Math.min(this.nextId - 1, this.capacity);
  }

  /** Newest first, optionally for one tenant, with ids below `beforeId`. */
  list(opts: { tenant?: string; limit?: number; beforeId?: number; filter?: (e: DeadLetter) => boolean } = {}): DeadLetter[] {
    const limit = opts.limit ?? 100;
    const out: DeadLetter[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const e = this.buf[(this.next - i + this.capacity) % this.capacity];
      if (!e) break;
      if (opts.tenant && e.tenant !== opts.tenant) continue;
      if (opts.beforeId !== undefined && e.id >= opts.beforeId) continue;
      if (opts.filter && !opts.filter(e)) continue;
      out.push(e);
    }
    return out;
  }
}

/** A payload excerpt that is safe to show: UTF-8 text as is, anything else as base64. */
export function payloadExcerpt(payload: Buffer): string {
  const slice = payload.subarray(0, DEAD_LETTER_PAYLOAD_EXCERPT_BYTES);
  // Control bytes other than whitespace (\t \n \v \f \r) mean binary (a JT/T 808 frame), even when they happen to be valid UTF-8.
  if (slice.some((b) => b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f)) return `base64:${slice.toString('base64')}`;
  try {
    // `stream` when truncated: a multi-byte character cut by the excerpt's end is left out, not taken for binary.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(slice, { stream: payload.length > slice.length });
  } catch {
    return `base64:${slice.toString('base64')}`;
  }
}
