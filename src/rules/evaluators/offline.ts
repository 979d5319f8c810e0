import { z } from 'zod';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';

/**
 * `offline`: no data from a device for max(k × its heartbeat + grace, floor) of gateway time (domain.md G8, §4.4,
 * §5.9). Silence counts only from when the gateway itself was receiving (`observedSince`): when ingest as a whole
 * stalls the engine raises one gateway alert and does not tick this rule, so devices are not all declared offline.
 */
export interface OfflineRule extends RuleBase {
  type: 'offline';
  level: AlertLevel;
  /** Multiple of the device's heartbeat (registry `heartbeat_s`). Default 2. */
  heartbeatFactor: number;
  /** Added to k × heartbeat, ms. Default 0. */
  graceMs: number;
  /** Never less than this, ms. Default 600 000 (10 min). */
  floorMs: number;
}

export const DEFAULT_OFFLINE = { heartbeatFactor: 2, graceMs: 0, floorMs: 600_000, level: 4 } as const;

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('offline'),
    level: LEVEL.default(DEFAULT_OFFLINE.level),
    heartbeat_factor: z.number().min(1).max(100).default(DEFAULT_OFFLINE.heartbeatFactor),
    grace: DURATION.default(DEFAULT_OFFLINE.graceMs),
    floor: DURATION.default(DEFAULT_OFFLINE.floorMs),
  })
  .transform((r): Omit<OfflineRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'offline',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    level: r.level,
    heartbeatFactor: r.heartbeat_factor,
    graceMs: r.grace,
    floorMs: r.floor,
  }));

export interface OfflineState {
  /** Gateway time of the latest reading, epoch ms. */
  lastSeen?: number;
  offline: boolean;
}

/** The silence after which a device counts as offline, ms. */
export function offlineAfterMs(rule: OfflineRule, heartbeatS: number): number {
  return Math.max(rule.heartbeatFactor * heartbeatS * 1000 + rule.graceMs, rule.floorMs);
}

export const offlineEvaluator: RuleEvaluator<OfflineRule, OfflineState> = {
  type: 'offline',
  schema,
  // `lastSeen` present from the start (undefined until the first reading): the state keeps one hidden class.
  initialState: (_rule, resume) => ({ lastSeen: undefined, offline: resume !== undefined }),
  evaluate(_rule, state, _reading, ctx): EvalResult {
    state.lastSeen = ctx.now;
    if (state.offline) state.offline = false;
    return { status: 'clear' };
  },
  // `lastSeen` is gateway time of this process: after a restart silence counts from `observedSince` (the start), which
  // is later than any persisted `lastSeen`, so only `offline` is worth a write.
  durable: (state) => state.offline,
  tick(rule, state, ctx): EvalResult | undefined {
    if (state.offline) return undefined; // raised once; the next reading clears it
    const from = Math.max(state.lastSeen ?? ctx.observedSince, ctx.observedSince);
    const silentMs = ctx.now - from;
    if (silentMs <= offlineAfterMs(rule, ctx.device.heartbeatS)) return undefined;
    state.offline = true;
    // Value: minutes without data, so an operator sees how long it has been silent.
    return { status: 'firing', level: rule.level, value: Math.round(silentMs / 60_000) };
  },
};
