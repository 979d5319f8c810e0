// Source recordings carry wall-clock times without a zone; each mapper names the zone it reads them in (IANA name,
// resolved by the ICU data Node ships, so DST and Morocco's Ramadan switches come out right).

/** A wall-clock time as written in a source file. */
export interface LocalTime {
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's offset from UTC at an instant, ms (UTC+8 → 28 800 000). */
export function zoneOffsetMs(zone: string, epochMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(epochMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(epochMs / 1000) * 1000;
}

/** True when the fields form a real calendar date and time (no month 0, no 31 April, no hour 24). */
export function isValidLocalTime(t: LocalTime): boolean {
  const { year, month, day, hour, minute, second } = t;
  if (![year, month, day, hour, minute, second].every(Number.isInteger)) return false;
  if (year < 1970 || year > 2100 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  if (hour < 0 || minute < 0 || second < 0) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Epoch ms of a wall-clock time in `zone`; undefined for an impossible date. A time repeated by a DST fall-back
 * takes the first (earlier) instant; a time skipped by a spring-forward is read with the offset before the gap.
 */
export function localToEpochMs(t: LocalTime, zone: string): number | undefined {
  if (!isValidLocalTime(t)) return undefined;
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  // Two passes: the offset at the guessed instant, then at the corrected one (differs only next to a switch).
  const first = wall - zoneOffsetMs(zone, wall);
  const second = wall - zoneOffsetMs(zone, first);
  return Math.min(first, second);
}

/** `2015-11-26`, `2015-11-26T08:00`, `2015-11-26 08:00:30` as wall-clock time; undefined when malformed. */
export function parseLocalIso(text: string): LocalTime | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (!m) return undefined;
  const t: LocalTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
  };
  return isValidLocalTime(t) ? t : undefined;
}
