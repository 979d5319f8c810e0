import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee, requireRole } from '../auth/principal.js';
import { KINDS } from '../kinds/index.js';
import { KIND_NAMES, type KindName } from '../kinds/kind.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { parseDurationMs } from '../lib/duration.js';
import type { DeviceActivity } from '../registry/device-activity.js';
import type { DeviceRegistry } from '../registry/device-registry.js';
import { onlineStats, type OnlineStatsRow } from '../registry/online-stats.js';
import { REGION_CODE, type RegionStore } from '../registry/region-store.js';
import { REGISTRY_ID, type TenantStore } from '../registry/tenant-store.js';
import { READERS } from './registry-access.js';

/** What the stats routes read. */
export interface StatsRoutesOptions {
  registry: DeviceRegistry;
  activity: DeviceActivity;
  /** Names of tenant rows (`name`); optional. */
  tenants?: TenantStore;
  /** Names of region rows; optional. */
  regions?: RegionStore;
  /** Gateway clock; default the system clock. */
  clock?: Clock;
}

/** Defaults of GET /api/v1/stats/online. */
export const DEFAULT_ONLINE_STATS = { window: '24h', heartbeatFactor: 2 } as const;

const DURATION = z.string().refine((v) => (parseDurationMs(v) ?? 0) > 0, { message: 'must be a duration such as 1h, 24h, 7d' });

/**
 * 上线率 and data completeness by tenant, region or kind (domain.md §5.9 T12), over the devices the caller may see.
 * docs/registry.md defines both figures.
 */
export async function statsRoutes(app: FastifyInstance, opts: StatsRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const clock = opts.clock ?? systemClock;
  const maxWindowMs = opts.activity.options.retentionMs;
  const query = z.strictObject({
    group_by: z.enum(['tenant', 'region', 'kind']).default('tenant'),
    level: z.enum(['province', 'city', 'county']).default('county'),
    tenant: REGISTRY_ID.optional(),
    region: REGION_CODE.optional(),
    kind: z.enum(KIND_NAMES).optional(),
    window: DURATION.default(DEFAULT_ONLINE_STATS.window).refine((v) => (parseDurationMs(v) as number) <= maxWindowMs, { message: `at most ${maxWindowMs / 3_600_000} h (the activity retention)` }),
    k: z.coerce.number().min(1).max(100).default(DEFAULT_ONLINE_STATS.heartbeatFactor),
  });

  r.get('/api/v1/stats/online', { schema: { querystring: query } }, async (req) => {
    const p = requireRole(req, READERS);
    const q = req.query;
    const windowMs = parseDurationMs(q.window) as number;
    const devices = opts.registry.list({ tenant: q.tenant, region: q.region, kind: q.kind }).filter((d) => canSee(p, { tenant: d.tenant, region: d.region ?? null, deviceId: d.deviceId }));
    const stats = onlineStats(devices, opts.activity, { groupBy: q.group_by, regionLevel: q.level, now: clock.now(), windowMs, heartbeatFactor: q.k });
    const name = (r: OnlineStatsRow): string | null => {
      if (r.key === null) return null;
      if (q.group_by === 'tenant') return opts.tenants?.get(r.key)?.name ?? null;
      if (q.group_by === 'region') return opts.regions?.get(r.key)?.name ?? null;
      return KINDS[r.key as KindName]?.labelZh ?? null;
    };
    return {
      group_by: q.group_by,
      ...(q.group_by === 'region' && { level: q.level }),
      window: q.window,
      window_ms: stats.now - stats.window_start,
      window_start: stats.window_start,
      now: stats.now,
      k: q.k,
      rows: stats.rows.map((r) => ({ key: r.key, name: name(r), ...withoutKey(r) })),
      total: withoutKey(stats.total),
    };
  });
}

function withoutKey(r: OnlineStatsRow): Omit<OnlineStatsRow, 'key'> {
  const { key: _key, ...rest } = r;
  return rest;
}
