import type { AlertLevel, EvalResult } from '../types.js';

/** The tri-state bookkeeping the single-condition rule types share (plain JSON: the engine persists it). */
export interface HoldState {
  /** Level while firing, undefined while not. */
  firingLevel?: AlertLevel;
  /** Device time the condition started to hold, while pending. */
  pendingSince?: number;
}

/**
 * Clear / pending / firing over `state`, the way `threshold` does it: a condition that starts to hold is pending until
 * it has held `forMs` of device time (`ts`), then fires; once firing a level change applies at once; `level`
 * undefined (the condition does not hold) clears and restarts the `for` clock.
 */
export function holdFor(state: HoldState, level: AlertLevel | undefined, forMs: number, ts: number, value?: number, title?: string): EvalResult {
  if (level === undefined) {
    state.firingLevel = undefined;
    state.pendingSince = undefined;
    return { status: 'clear', value };
  }
  if (state.firingLevel === undefined) {
    state.pendingSince ??= ts;
    if (ts - state.pendingSince < forMs) return { status: 'pending', level, value };
    state.pendingSince = undefined;
  }
  state.firingLevel = level;
  return { status: 'firing', level, value, title };
}
