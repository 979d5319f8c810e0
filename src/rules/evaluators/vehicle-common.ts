import { z } from 'zod';
import type { Device } from '../../registry/device-registry.js';

// What the vehicle rule types (time_window, continuous_driving, overspeed, geofence) share: Beijing local time of
// device time, daily windows that may cross midnight, and the device's vehicle class.

/** Asia/Shanghai is UTC+8 all year (no DST since 1991), so local time is plain arithmetic — no Intl on the hot path. */
export const BEIJING_OFFSET_MS = 8 * 3_600_000;
export const DAY_MS = 86_400_000;

/** `HH:MM` (00:00–23:59) → ms since local midnight. */
export const TIME_OF_DAY = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a local time HH:MM (00:00–23:59, Beijing time)' })
  .transform((s) => (Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5))) * 60_000);

/** A daily window of Beijing local time, `[from, to)`; `from > to` crosses midnight (22:00–06:00). */
export interface DailyWindow {
  /** ms since local midnight. */
  fromMs: number;
  /** ms since local midnight; less than `fromMs` when the window crosses midnight. */
  toMs: number;
}

export const DAILY_WINDOW_SHAPE = { from: TIME_OF_DAY, to: TIME_OF_DAY };

/** Issue for a window whose ends are equal (empty or whole-day is ambiguous: say which with explicit times). */
export function checkWindow(w: { from: number; to: number }, ctx: z.RefinementCtx, path: (string | number)[]): void {
  if (w.from === w.to) ctx.addIssue({ code: 'custom', path: [...path, 'to'], message: 'from and to must differ' });
}

/** ms since Beijing local midnight of an epoch-ms device time. */
export function localTimeOfDayMs(ts: number): number {
  return (((ts + BEIJING_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS;
}

export function inDailyWindow(ts: number, w: DailyWindow): boolean {
  const t = localTimeOfDayMs(ts);
  return w.fromMs < w.toMs ? t >= w.fromMs && t < w.toMs : t >= w.fromMs || t < w.toMs;
}

/** How much of the device-time interval `[a, b)` lies inside the daily window, ms. */
export function overlapDailyWindowMs(a: number, b: number, w: DailyWindow): number {
  if (b <= a) return 0;
  const la = a + BEIJING_OFFSET_MS;
  const lb = b + BEIJING_OFFSET_MS;
  const span = w.fromMs < w.toMs ? w.toMs - w.fromMs : DAY_MS - w.fromMs + w.toMs;
  let total = 0;
  // A window opening on the day before `a` may still be open at `a` (22:00–06:00).
  for (let day = Math.floor(la / DAY_MS) - 1; day <= Math.floor(lb / DAY_MS); day++) {
    const start = day * DAY_MS + w.fromMs;
    total += Math.max(0, Math.min(lb, start + span) - Math.max(la, start));
  }
  return total;
}

/** The registry's `attrs.vehicle_class` (hazmat, coach, bus, truck, …), or undefined when not set. */
export function vehicleClassOf(device: Device): string | undefined {
  const c = device.attrs.vehicle_class;
  return typeof c === 'string' && c !== '' ? c : undefined;
}

/** The entry for a vehicle class, else `default` (own keys only: a class named `constructor` is not Object's). */
export function byClass<T>(table: Record<string, T>, cls: string | undefined): T | undefined {
  return cls !== undefined && Object.hasOwn(table, cls) ? table[cls] : Object.hasOwn(table, 'default') ? table.default : undefined;
}

/** Vehicle class names as written in rule files (lower-case, as in the registry's `attrs.vehicle_class`). */
export const VEHICLE_CLASS = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: 'must be a vehicle class such as hazmat, coach, bus, truck' });

/** Formats a duration for a Chinese title: 4小时, 2.5小时, 20分钟. */
export function durationZh(ms: number): string {
  if (ms >= 3_600_000 && ms % 360_000 === 0) return `${ms / 3_600_000}小时`;
  if (ms % 60_000 === 0) return `${ms / 60_000}分钟`;
  return `${Math.round(ms / 1000)}秒`;
}
