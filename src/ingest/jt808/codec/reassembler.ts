import type { Clock } from '../../../lib/clock.js';
import type { Jt808DecodeError } from './decode-error.js';
import type { Jt808Header } from './header.js';
import type { Jt808Packet } from './packet.js';

/** Bounds of one {@link Jt808Reassembler} (one per connection). */
export interface ReassemblerOptions {
  /** Messages being reassembled at once; a new one beyond this evicts the oldest. Default 4. */
  maxPending: number;
  /** Largest reassembled body, bytes; past it the message is dropped with `oversized`. Default 65 536. */
  maxMessageBytes: number;
  /** A message not complete this long after its first packet is dropped, ms. Default 60 000. */
  timeoutMs: number;
}

export const DEFAULT_REASSEMBLER_OPTIONS: ReassemblerOptions = { maxPending: 4, maxMessageBytes: 65_536, timeoutMs: 60_000 };

/** What a packet did: completed a message, is waiting for others, or was refused. */
export type ReassemblyResult = { status: 'complete'; packet: Jt808Packet } | { status: 'pending' } | { status: 'error'; error: Jt808DecodeError };

interface Pending {
  header: Jt808Header;
  firstSeq: number;
  startedAt: number;
  parts: (Buffer | undefined)[];
  received: number;
  bytes: number;
}

/**
 * Joins subpackaged messages (body_props bit13, domain.md §5.2). Packets of one message share msg id and total, and
 * their seqs are consecutive, so `seq - (index - 1)` identifies the message. A retransmitted packet replaces its
 * earlier copy. Memory is bounded by `maxPending × maxMessageBytes`.
 */
export class Jt808Reassembler {
  private readonly opts: ReassemblerOptions;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly clock: Clock,
    opts: Partial<ReassemblerOptions> = {},
  ) {
    this.opts = { ...DEFAULT_REASSEMBLER_OPTIONS, ...opts };
  }

  /** Messages waiting for packets. */
  get size(): number {
    return this.pending.size;
  }

  /** Feeds one packet; an unsubpackaged one completes at once. */
  push(packet: Jt808Packet): ReassemblyResult {
    const { header } = packet;
    const sub = header.subpackage;
    if (!sub) return { status: 'complete', packet };
    if (sub.total < 1 || sub.index < 1 || sub.index > sub.total) {
      return { status: 'error', error: { reason: 'bad_subpackage', message: `subpackage index ${sub.index} of total ${sub.total}: index runs 1…total`, header } };
    }
    const now = this.clock.now();
    this.expire(now);
    const firstSeq = (header.seq - (sub.index - 1)) & 0xffff;
    const key = `${header.msgId}:${sub.total}:${firstSeq}`;
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= this.opts.maxPending) this.pending.delete(this.pending.keys().next().value as string);
      p = { header, firstSeq, startedAt: now, parts: new Array<Buffer | undefined>(sub.total), received: 0, bytes: 0 };
      this.pending.set(key, p);
    }
    const previous = p.parts[sub.index - 1];
    if (previous) p.bytes -= previous.length;
    else p.received++;
    p.parts[sub.index - 1] = Buffer.from(packet.body);
    p.bytes += packet.body.length;
    if (p.bytes > this.opts.maxMessageBytes) {
      this.pending.delete(key);
      return { status: 'error', error: { reason: 'oversized', message: `subpackaged 0x${header.msgId.toString(16).padStart(4, '0')} exceeds ${this.opts.maxMessageBytes} bytes`, header } };
    }
    if (p.received < sub.total) return { status: 'pending' };
    this.pending.delete(key);
    const body = Buffer.concat(p.parts as Buffer[], p.bytes);
    const { subpackage: _drop, ...rest } = p.header;
    return { status: 'complete', packet: { header: { ...rest, seq: p.firstSeq, bodyLength: body.length }, body } };
  }

  /** Drops messages older than `timeoutMs`; returns how many. */
  expire(now = this.clock.now()): number {
    let n = 0;
    for (const [key, p] of this.pending) {
      if (now - p.startedAt < this.opts.timeoutMs) continue;
      this.pending.delete(key);
      n++;
    }
    return n;
  }
}
