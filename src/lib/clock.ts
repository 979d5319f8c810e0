/** Source of the current time; tests pass a fake. */
export interface Clock {
  /** Epoch ms. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: for unit tests of time-dependent logic. */
export class FakeClock implements Clock {
  private t: number;
  constructor(startMs = Date.UTC(2025, 2, 15, 6, 0, 0)) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
