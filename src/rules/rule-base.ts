import { z } from 'zod';
import { parseDurationMs } from '../lib/duration.js';

export const RULE_ID = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'must be lower-case a–z 0–9 _ . - (max 64)' });
export const LEVEL = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)], { message: 'must be 1 (红), 2 (橙), 3 (黄) or 4 (蓝)' });
export const DURATION = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 5m, 1h (or ms as a number)' });
      return z.NEVER;
    }
    return ms;
  });

/** Keys every rule has, whatever its type; `worse` defaults per type. */
export const RULE_BASE_SHAPE = {
  id: RULE_ID,
  title: z.string().min(1).max(128),
  standard: z.string().min(1, { message: 'every rule cites the standard (or domain.md rule id) it enforces' }),
  description: z.string().optional(),
  enabled: z.boolean().default(true),
};
