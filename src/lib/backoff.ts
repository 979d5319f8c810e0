/**
 * Exponential backoff between attempts, with jitter (influxdb-client-js `retryStrategy`). Each owner keeps its own
 * defaults beside its options (`DEFAULT_BATCHER_OPTIONS.retry`, the notifier config's `retry`).
 */
export interface RetryOptions {
  /** Delay before the first retry, ms. */
  initialDelayMs: number;
  /** Upper bound of any delay, ms. */
  maxDelayMs: number;
  /** Each further failure multiplies the delay by this factor. */
  factor: number;
  /** Random spread of each delay as a fraction (0.2 = ±20 %), so clients that failed together do not retry in step. */
  jitter: number;
}

/** Delay before the next attempt after `attempt` failures (1-based): exponential, capped, with jitter. */
export function retryDelayMs(attempt: number, retry: RetryOptions, random: () => number = Math.random): number {
  const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.factor ** Math.max(0, attempt - 1));
  const spread = 1 + retry.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(retry.maxDelayMs, Math.round(base * spread)));
}
