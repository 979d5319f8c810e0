import type { ReadingSink } from '../pipeline/pipeline.js';
import type { Reading } from '../pipeline/reading.js';
import type { WriteBatcher } from './batcher.js';
import { readingToPoint } from './to-point.js';

/** The storage stage of the pipeline: every accepted reading becomes a point in the write batcher. */
export class StoreSink implements ReadingSink {
  private readonly batcher: WriteBatcher;

  constructor(batcher: WriteBatcher) {
    this.batcher = batcher;
  }

  accept(reading: Reading): void {
    this.batcher.enqueue(readingToPoint(reading));
  }

  /** The message is part of a group commit: its points wait in the open record for `endMessage()` at the commit. */
  holdCommit(): void {
    this.batcher.holdSeal();
  }

  /** The message's points become one spool record, on disk (page cache) before the message is acknowledged. */
  endMessage(): void {
    this.batcher.seal();
  }
}
