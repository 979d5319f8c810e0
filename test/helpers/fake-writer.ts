import type { Point, PointWriter } from '../../src/storage/point.js';

/** In-memory writer: records acknowledged batches; fails while `failuresLeft` > 0 or while `down`. */
export class FakeWriter implements PointWriter {
  readonly name = 'fake';
  readonly batches: Point[][] = [];
  readonly attemptsAtMs: number[] = [];
  failuresLeft = 0;
  down = false;
  inFlight = 0;
  maxInFlight = 0;
  latencyMs = 0;

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async ping(): Promise<boolean> {
    return !this.down;
  }
  async write(points: readonly Point[]): Promise<void> {
    this.attemptsAtMs.push(Date.now());
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      if (this.down || this.failuresLeft > 0) {
        this.failuresLeft--;
        throw new Error('store unavailable');
      }
      this.batches.push([...points]);
    } finally {
      this.inFlight--;
    }
  }
  get written(): Point[] {
    return this.batches.flat();
  }
}

/**
 * The same, for a writer that encodes (PointWriter.encode / writeEncoded, as the InfluxDB 1.x writer does): a record's
 * points become one chunk (JSON here) when the batcher seals it; a batch of chunks is decoded back into `batches`,
 * so every assertion on `FakeWriter` holds for it too. `encodedWrites` counts the batches that came as chunks.
 */
export class EncodingFakeWriter extends FakeWriter {
  encodedWrites = 0;
  encode(points: readonly Point[]): string {
    return JSON.stringify(points);
  }
  async writeEncoded(chunks: readonly string[]): Promise<void> {
    this.encodedWrites++;
    await this.write(chunks.flatMap((c) => JSON.parse(c) as Point[]));
  }
}
