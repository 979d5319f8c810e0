import { basename } from 'node:path';
import { buildTopic } from '../../ingest/mqtt/topics.js';
import { localToEpochMs, type LocalTime } from './local-time.js';
import { TimeFilter, type CaptureMapper, type MapperContext, type MapperOutput, type MappedMessage } from './mapper.js';
import { numberCell, readSourceTable, round } from './source-table.js';

// UL FSRI 2016 gas-burner fire, two-storey house, experiment 4 (data README §2) → one networked heat/smoke detector
// per room. The top thermocouple of each room's tree hangs 2.5 cm below the ceiling, where a ceiling-mounted heat
// element sits, so it is read as the detector's `temperature_c` (the smoke kind's only temperature field). Pressure
// and velocity channels have no smoke-kind field and are not sent.

const TENANT = 'ulfsri-gasburner';
const CEILING = /^(.*\S)\s+Temperature 0\.02 m Below Ceiling$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ -](\d{2}):(\d{2}):(\d{2})$/;

/**
 * The detector's range, °C: the bounds of the smoke kind's `temperature_c` (src/kinds/smoke.ts; a unit test keeps the
 * two equal). Hotter ceiling gas is sent as the maximum, as a saturated heat element reports it.
 */
export const DETECTOR_RANGE_C = { min: -40, max: 200 } as const;

export const fsriFireMapper: CaptureMapper = {
  name: 'fsri-fire',
  summary: 'UL FSRI gas-burner fire ceiling thermocouples → one smoke/heat detector per room (temperature_c)',
  delimiter: ',',
  // ❓ The upstream files say "local clock time" without naming the site; US Eastern is assumed (docs/captures.md).
  zone: 'America/New_York',
  dataset: {
    licence: 'MIT',
    attribution:
      '2016 Residential Gas Burner Experimental Data, McKinnon, Weinschenk, Madrzykowski, Stakes (UL FSRI), doi:10.5281/zenodo.5703080; MIT License, Copyright (c) 2021 UL FSRI',
    upstream: 'ulfsri/fsri-residential-gasburner-2016@9d1e2aad334ef2356482eb4da31c1df759f07c66 (01_Data/Two_Story/)',
    licenceFile: { sourceName: 'LICENSE-upstream-MIT.txt', targetName: 'LICENSE-fsri-gasburner-MIT.txt' },
  },
  matches: (header) => header[0] === 'Time' && header[1] === 'Timestamp' && header.some((h) => CEILING.test(h)),
  map: mapFire,
};

function mapFire(ctx: MapperContext): MapperOutput {
  const { table, report } = ctx;
  const zone = fsriFireMapper.zone;
  const range = DETECTOR_RANGE_C;
  const rooms = table.header.flatMap((h, i) => {
    const m = CEILING.exec(h);
    // Upstream spells one room "End Hall  Temperature" (two spaces): names are normalised.
    return m ? [{ column: i, channel: h, room: (m[1] as string).replace(/\s+/g, ' ') }] : [];
  });
  const devices = rooms.map((r) => ({
    tenant: TENANT,
    device_id: `heat-${slug(r.room)}`,
    kind: 'smoke' as const,
    model: 'type-K thermocouple 2.5 cm below the ceiling, read as a heat detector',
    site: 'UL FSRI two-storey structure, gas burner experiment 4',
    location: r.room,
    heartbeat_s: 2,
    attrs: { source_channel: r.channel },
  }));
  const topics = devices.map((d) => buildTopic({ tenant: TENANT, kind: 'smoke', deviceId: d.device_id, channel: 'telemetry' }));
  const events = readEvents(ctx, zone);
  const ignition = events.find((e) => /ignition/i.test(e.label))?.ts;

  const messages: MappedMessage[] = [];
  const filter = new TimeFilter(ctx.window, report);
  const seq = new Array<number>(rooms.length).fill(0);
  let prevTs: number | undefined;
  for (const { line, cells } of table.rows) {
    report.data.rows++;
    if (cells.length !== table.header.length) {
      report.defect('malformed_row', line, `row has ${cells.length} cells, the header ${table.header.length}`, 'skipped');
      continue;
    }
    let ts = parseTimestamp(cells[1], zone);
    const sinceIgnitionS = numberCell(cells[0]);
    if (ts === undefined) {
      if (ignition === undefined || sinceIgnitionS === undefined) {
        report.defect('bad_timestamp', line, 'Timestamp is not a date-time and Time cannot stand in', 'skipped');
        continue;
      }
      ts = ignition + Math.round(sinceIgnitionS * 1000);
      report.defect('bad_timestamp', line, 'Timestamp is not a date-time', 'kept: time taken from the events file ignition + Time');
    }
    if (prevTs !== undefined && ts <= prevTs) {
      report.defect('non_monotonic_time', line, 'Timestamp is not after the previous row', 'skipped');
      continue;
    }
    prevTs = ts;
    if (!filter.keep(ts)) continue;
    let used = false;
    rooms.forEach((r, i) => {
      const v = numberCell(cells[r.column]);
      if (v === undefined) {
        report.defect('bad_number', line, `${r.channel}: not a number`, 'skipped (that room, that row)');
        return;
      }
      let t = v;
      if (t > range.max) {
        report.adjust('above_detector_range', line, `ceiling temperature above the detector's ${range.max} °C range (src/kinds/smoke.ts)`, `clamped to ${range.max} °C (a heat element saturates at its range)`);
        t = range.max;
      } else if (t < range.min) {
        report.defect('below_detector_range', line, `${r.channel}: below ${range.min} °C`, 'skipped (that room, that row)');
        return;
      }
      const n = seq[i] ?? 0;
      seq[i] = n + 1;
      messages.push({ ts: ts as number, topic: topics[i] as string, payload: { ts, seq: n, data: { temperature_c: round(t, 2) } } });
      used = true;
    });
    if (used) report.data.rows_used++;
  }
  return {
    devices,
    messages,
    events,
    notes: [`${rooms.length} rooms; events from ${basename(table.fileName, '.csv')}_Events.csv; pressure and velocity channels not sent (no smoke-kind field).`],
  };
}

function readEvents(ctx: MapperContext, zone: string): { ts: number; label: string }[] {
  const name = `${basename(ctx.table.fileName, '.csv')}_Events.csv`;
  const text = ctx.sibling(name);
  if (text === undefined) {
    ctx.report.note(`no ${name} beside the source: the capture has no events`);
    return [];
  }
  const events: { ts: number; label: string }[] = [];
  for (const { line, cells } of readSourceTable(name, ',', text).rows) {
    const ts = parseTimestamp(cells[1], zone);
    if (ts === undefined || !cells[0]) ctx.report.defect('bad_event', line, `${name}: event without a valid time`, 'skipped');
    else events.push({ ts, label: cells[0] });
  }
  return events;
}

/** `2016-11-09 08:56:00` (data file) or `2016-11-09-08:59:00` (events file). */
function parseTimestamp(text: string | undefined, zone: string): number | undefined {
  const m = TIMESTAMP.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t: LocalTime = { year, month, day, hour, minute, second };
  return localToEpochMs(t, zone);
}

function slug(room: string): string {
  return room.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
