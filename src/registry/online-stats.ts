import type { Device } from './device-registry.js';
import { canonicalRegion, type RegionLevel } from './region-store.js';

/** What the stats need of DeviceActivity (a fake in tests). */
export interface ActivityView {
  lastSeen(tenant: string, deviceId: string): number | undefined;
  received(tenant: string, deviceId: string, fromMs: number, toMs: number): number;
  bucketStart(ms: number): number;
}

export type OnlineGroupBy = 'tenant' | 'region' | 'kind';

export interface OnlineStatsQuery {
  groupBy: OnlineGroupBy;
  /** For `groupBy: 'region'`: roll codes up to this level. Default `county`. */
  regionLevel?: RegionLevel;
  /** Gateway time, epoch ms. */
  now: number;
  /** Length of the completeness window, ms (its start is aligned down to the activity bucket). */
  windowMs: number;
  /** Online = a reading within heartbeatFactor × heartbeat of now. */
  heartbeatFactor: number;
}

/** One group: counts and the two KPIs (fractions 0–1, 4 decimals; null when there is nothing to divide by). */
export interface OnlineStatsRow {
  /** Tenant id, region code or kind; null for devices with no region. */
  key: string | null;
  registered: number;
  online: number;
  /** 上线率 = online / registered. */
  online_rate: number | null;
  /** Σ per device: whole heartbeats between max(window start, registration) and now. */
  expected_readings: number;
  /** Σ per device: readings whose device time falls in the window. */
  received_readings: number;
  /** Σ min(received, expected) / Σ expected: a chatty device does not make up for a silent one. */
  completeness: number | null;
}

export interface OnlineStats {
  window_start: number;
  now: number;
  rows: OnlineStatsRow[];
  total: OnlineStatsRow;
}

const LEVEL_DIGITS: Record<RegionLevel, number> = { province: 2, city: 4, county: 6 };

interface Acc {
  registered: number;
  online: number;
  expected: number;
  received: number;
  credited: number;
}

/**
 * 上线率 and data completeness (domain.md §5.9 T12) over the given devices. A device counts from its registration
 * time: one registered an hour ago is expected an hour of readings, not a window's.
 */
export function onlineStats(devices: Iterable<Device>, activity: ActivityView, q: OnlineStatsQuery): OnlineStats {
  const windowStart = activity.bucketStart(q.now - q.windowMs);
  const groups = new Map<string | null, Acc>();
  const total: Acc = { registered: 0, online: 0, expected: 0, received: 0, credited: 0 };
  for (const d of devices) {
    const heartbeatMs = d.heartbeatS * 1000;
    const seen = activity.lastSeen(d.tenant, d.deviceId);
    const online = seen !== undefined && q.now - seen <= q.heartbeatFactor * heartbeatMs ? 1 : 0;
    const from = Math.max(windowStart, d.createdAt ?? windowStart);
    const expected = Math.max(0, Math.floor((q.now - from) / heartbeatMs));
    const received = activity.received(d.tenant, d.deviceId, windowStart, q.now);
    const k = groupKey(d, q);
    let acc = groups.get(k);
    if (!acc) groups.set(k, (acc = { registered: 0, online: 0, expected: 0, received: 0, credited: 0 }));
    for (const a of [acc, total]) {
      a.registered++;
      a.online += online;
      a.expected += expected;
      a.received += received;
      a.credited += Math.min(received, expected);
    }
  }
  const rows = [...groups.entries()].map(([key, a]) => row(key, a)).sort((a, b) => (a.key ?? '\uffff').localeCompare(b.key ?? '\uffff'));
  return { window_start: windowStart, now: q.now, rows, total: row('total', total) };
}

function groupKey(d: Device, q: OnlineStatsQuery): string | null {
  if (q.groupBy === 'tenant') return d.tenant;
  if (q.groupBy === 'kind') return d.kind;
  if (d.region === undefined) return null;
  return (canonicalRegion(d.region) ?? d.region).slice(0, LEVEL_DIGITS[q.regionLevel ?? 'county']);
}

const ratio = (n: number, d: number): number | null => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000);

function row(key: string | null, a: Acc): OnlineStatsRow {
  return {
    key,
    registered: a.registered,
    online: a.online,
    online_rate: ratio(a.online, a.registered),
    expected_readings: a.expected,
    received_readings: a.received,
    completeness: ratio(a.credited, a.expected),
  };
}
