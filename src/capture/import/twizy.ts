import { basename } from 'node:path';
import { buildTopic } from '../../ingest/mqtt/topics.js';
import { localToEpochMs, type LocalTime } from './local-time.js';
import { TimeFilter, type CaptureMapper, type MapperContext, type MapperOutput, type MappedMessage } from './mapper.js';
import { numberCell, round } from './source-table.js';

// RSK Twizy EV drives (Rabat–Salé–Kénitra, 2021, 1 Hz CAN + GPS, data README §1) → one JT/T 808 vehicle terminal.
//
// The vehicle kind has no per-reading speed limit, and the platform rule `vehicle.overspeed` knows only ceilings per
// vehicle class (regulator limits, not the posted limit of the road). JT/T 808 carries a posted, per-road-segment
// limit in exactly one way: a terminal given route segments with their own 最高速度 / 超速持续时间 (0x8606) judges
// overspeed itself and raises alarm bit 1. This mapper plays that terminal: bit 1 is set once `Speed > SpeedLimit`
// has held for OVERSPEED_HOLD_MS and cleared when the speed is back at or below the limit (docs/captures.md).

const TENANT = 'rsk-twizy';
/** How long the speed must stay above the posted limit before the emulated terminal raises bit 1 (0x0056 analogue). */
export const OVERSPEED_HOLD_MS = 10_000;
/** JT/T 808-2019 alarm flag bit 1, 超速报警 (domain.md §5.4). */
const ALARM_BIT_OVERSPEED = 1 << 1;
/** A logger step longer than this is reported as a gap (the logger writes once per second). */
const GAP_MS = 2_000;
const COLUMNS = ['Date', 'Time', 'Soc', 'Speed', 'Mode', 'LAT', 'LON', 'ALT', 'GpsSpeed', 'Temperature', 'Humidity', 'Weather', 'WindSpeedAv', 'Traffic', 'SpeedLimit'];

export const twizyMapper: CaptureMapper = {
  name: 'twizy',
  summary: 'RSK Twizy EV drives (CAN speed, GPS, posted speed limit) → vehicle (JT/T 808 location + terminal overspeed bit)',
  delimiter: ',',
  zone: 'Africa/Casablanca',
  dataset: {
    licence: 'CC-BY-4.0',
    attribution:
      'RSK Twizy EV dataset, Y. NaitMalek, M. Najib, M. Bakhouya et al., CC BY 4.0, https://github.com/NaitMalekYoussef/RSK_Twizy_EV_Dataset',
    upstream: 'NaitMalekYoussef/RSK_Twizy_EV_Dataset@4f37a71311511a02023802ec5a5d8764386cfda2 (data/Analyzed/)',
  },
  matches: (header) => COLUMNS.every((c) => header.includes(c)),
  map: mapTwizy,
};

function mapTwizy(ctx: MapperContext): MapperOutput {
  const { table, report } = ctx;
  const col = Object.fromEntries(COLUMNS.map((c) => [c, table.header.indexOf(c)])) as Record<string, number>;
  const cell = (cells: string[], name: string): string | undefined => cells[col[name] as number];
  const stem = basename(table.fileName, '.csv');
  const deviceId = `twizy-${stem.toLowerCase()}`.slice(0, 64);
  const topic = buildTopic({ tenant: TENANT, kind: 'vehicle', deviceId, channel: 'telemetry' });
  const zone = twizyMapper.zone;
  const tripDate = dominantDate(table.rows.map((r) => cell(r.cells, 'Date')));
  if (!tripDate) report.note('no valid Date in the file: every row is skipped');

  const messages: MappedMessage[] = [];
  const episodes: { ts: number; tsEnd: number; limit: number }[] = [];
  const filter = new TimeFilter(ctx.window, report);
  let prevTs: number | undefined;
  let overSince: number | undefined;
  let bitOn = false;
  /** First garbage-dated row of a run and the last good time before it. */
  let gnssLostAfter: { line: number; ts: number } | undefined;
  let overRows = 0;
  let overRows10 = 0;
  let seq = 0;

  for (const { line, cells } of table.rows) {
    report.data.rows++;
    if (cells.length !== table.header.length) {
      report.defect('malformed_row', line, `row has ${cells.length} cells, the header ${table.header.length}`, 'skipped');
      continue;
    }
    const time = parseTime(cell(cells, 'Time'));
    if (!time || !tripDate) {
      report.defect('bad_time', line, 'Time is not H:M:S', 'skipped');
      continue;
    }
    const date = parseMdy(cell(cells, 'Date'));
    // The trip's day, or the next one for a drive past midnight; anything else is the logger's garbage.
    const dayAfterTrip = date === undefined ? NaN : (Date.UTC(date.year, date.month - 1, date.day) - Date.UTC(tripDate.year, tripDate.month - 1, tripDate.day)) / 86_400_000;
    const dateOk = dayAfterTrip === 0 || dayAfterTrip === 1;
    let ts = localToEpochMs({ ...(dateOk && date ? date : tripDate), ...time }, zone);
    // A garbage-dated row of a trip past midnight: the time of day went back by more than 12 h.
    if (!dateOk && ts !== undefined && prevTs !== undefined && prevTs - ts > 12 * 3_600_000) ts += 86_400_000;
    if (ts === undefined) {
      report.defect('bad_time', line, 'Date and Time do not form a valid local time', 'skipped');
      continue;
    }
    if (!dateOk) {
      // Real defect (data README §1): the logger wrote 03/00/2000 or 30/00/2006 while the GNSS had no fix; the Time
      // column stays continuous, so the trip's date is used when the time follows on from the previous row.
      if (prevTs === undefined || ts <= prevTs || ts - prevTs > 60_000) {
        report.defect('garbage_date_unrepairable', line, `Date ${JSON.stringify(cell(cells, 'Date'))} is not a date and Time does not follow the previous row`, 'skipped');
        continue;
      }
      report.defect(
        'garbage_date',
        line,
        `Date is not a calendar date (e.g. ${JSON.stringify(cell(cells, 'Date'))}) while the GNSS has no fix: position and GpsSpeed frozen at a stale value`,
        'kept: date taken from the trip (Time is continuous), lat/lon/altitude dropped and located=false',
      );
      gnssLostAfter ??= { line, ts: prevTs };
    } else if (gnssLostAfter) {
      report.defect('gnss_gap', gnssLostAfter.line, `e.g. no GNSS fix for ${(ts - gnssLostAfter.ts) / 1000} s (the garbage-dated rows)`, 'kept unlocated (see garbage_date)');
      gnssLostAfter = undefined;
    }
    if (prevTs !== undefined && ts <= prevTs) {
      report.defect('non_monotonic_time', line, 'time is not after the previous row', 'skipped');
      continue;
    }
    const speed = numberCell(cell(cells, 'Speed'));
    if (speed === undefined || speed < 0 || speed > 300) {
      report.defect('bad_speed', line, `e.g. Speed ${JSON.stringify(cell(cells, 'Speed'))} is not a speed of 0–300 km/h`, 'skipped');
      continue;
    }
    if (prevTs !== undefined && ts - prevTs > GAP_MS) {
      report.defect('gap', line, `e.g. no row for ${(ts - prevTs) / 1000} s before this one`, 'noted (nothing to send)');
    }
    prevTs = ts;

    // Emulated terminal overspeed judgement against the posted limit (see the file comment).
    const limit = numberCell(cell(cells, 'SpeedLimit'));
    if (limit === undefined || limit <= 0) report.defect('bad_speed_limit', line, 'SpeedLimit is not a positive number', 'kept: no overspeed judgement for this row');
    const over = limit !== undefined && limit > 0 && speed > limit;
    if (over) {
      overRows++;
      if (speed > (limit as number) * 1.1) overRows10++;
      overSince ??= ts;
      if (!bitOn && ts - overSince >= OVERSPEED_HOLD_MS) {
        bitOn = true;
        episodes.push({ ts: overSince, tsEnd: ts, limit: limit as number });
      }
      if (bitOn) (episodes.at(-1) as { tsEnd: number }).tsEnd = ts;
    } else {
      overSince = undefined;
      bitOn = false;
    }

    if (!filter.keep(ts)) continue;
    const data: Record<string, unknown> = {};
    const lat = numberCell(cell(cells, 'LAT'));
    const lon = numberCell(cell(cells, 'LON'));
    const positionOk = dateOk && lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0);
    if (dateOk && !positionOk) report.defect('bad_position', line, 'LAT/LON missing, out of range or 0/0', 'kept: located=false, position dropped');
    if (positionOk) {
      data.lat = round(lat as number, 6);
      data.lon = round(lon as number, 6);
      const alt = numberCell(cell(cells, 'ALT'));
      if (alt !== undefined && alt >= -500 && alt <= 9000) data.altitude_m = round(alt, 1);
    }
    data.speed_kmh = round(speed, 2);
    data.located = positionOk;
    data.alarm_bits = bitOn ? ALARM_BIT_OVERSPEED : 0;
    messages.push({ ts, topic, payload: { ts, seq: seq++, data } });
    report.data.rows_used++;
  }

  const notes = [
    `speed_kmh is the CAN Speed; GpsSpeed is not sent (it repeats a stale value while the fix is old).`,
    `rows with Speed > SpeedLimit: ${overRows}, more than 10 % over: ${overRows10}; emulated terminal overspeed episodes (≥ ${OVERSPEED_HOLD_MS / 1000} s over, alarm bit 1): ${episodes.length}.`,
  ];
  return {
    devices: [
      {
        tenant: TENANT,
        device_id: deviceId,
        kind: 'vehicle',
        model: 'Renault Twizy, RSK logger (CAN + GPS, 1 Hz)',
        site: 'Rabat–Salé–Kénitra',
        location: `trip ${stem}`,
        heartbeat_s: 1,
        // No class limit applies to a light quadricycle in riskgate's packs: `default` (100 km/h) is in force.
        attrs: { vehicle_class: 'car', source_file: table.fileName },
      },
    ],
    messages,
    events: episodes.map((e) => ({ ts: e.ts, tsEnd: e.tsEnd, label: `Speed above the posted limit ${e.limit} km/h for ≥ ${OVERSPEED_HOLD_MS / 1000} s` })),
    notes,
  };
}

/** `M/D/Y` → date (the logger's format; `03/00/2000` is not a date). */
function parseMdy(text: string | undefined): Pick<LocalTime, 'year' | 'month' | 'day'> | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const d = { year: Number(m[3]), month: Number(m[1]), day: Number(m[2]) };
  return localToEpochMs({ ...d, hour: 12, minute: 0, second: 0 }, 'UTC') === undefined ? undefined : d;
}

function parseTime(text: string | undefined): Pick<LocalTime, 'hour' | 'minute' | 'second'> | undefined {
  const m = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const t = { hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]) };
  return t.hour > 23 || t.minute > 59 || t.second > 59 ? undefined : t;
}

/** The date most rows carry: the trip's. */
function dominantDate(cells: (string | undefined)[]): Pick<LocalTime, 'year' | 'month' | 'day'> | undefined {
  const counts = new Map<string, number>();
  for (const c of cells) {
    const d = parseMdy(c);
    if (d) counts.set(`${d.year}-${d.month}-${d.day}`, (counts.get(`${d.year}-${d.month}-${d.day}`) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [k, n] of counts) if (best === undefined || n > (counts.get(best) as number)) best = k;
  if (!best) return undefined;
  const [year, month, day] = best.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}
