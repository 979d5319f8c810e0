import { basename } from 'node:path';
import { buildTopic } from '../../ingest/mqtt/topics.js';
import { localToEpochMs } from './local-time.js';
import { TimeFilter, type CaptureMapper, type MapperContext, type MapperOutput, type MappedMessage } from './mapper.js';
import { numberCell, round } from './source-table.js';

// SKAB water-pump test bed (Skoltech, data README §4) → one electrical-fire monitor on the pump motor's supply:
// Current → current_a.a, Voltage → voltage_v.a (single phase), motor Temperature → temp_c[0] (probe channel 1).
// Not sent: accelerometers, pressure, flow and the fluid thermocouple (no electrical-fire field; the thermocouple
// measures water, not a conductor). The labelled anomaly episodes become capture events.

const TENANT = 'skab';
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
/** Below this the supply is not there (220 V nominal): with a normal current the Voltage cell is wrong. */
const MIN_PLAUSIBLE_V = 100;
/** Above this a motor current on this 1–3 A test bed is a voltage in the wrong column. */
const MAX_PLAUSIBLE_A = 100;
/** A logging step longer than this is reported as a gap (the bed logs about once a second). */
const GAP_MS = 10_000;
const COLUMNS = ['datetime', 'Current', 'Temperature', 'Thermocouple', 'Voltage', 'anomaly', 'changepoint'];

export const skabMapper: CaptureMapper = {
  name: 'skab',
  summary: 'SKAB pump test bed (current, voltage, motor temperature, labelled faults) → electrical_fire',
  delimiter: ';',
  // ❓ Skoltech, Moscow: local times read as Europe/Moscow (UTC+3 all year since 2014); the README names no zone.
  zone: 'Europe/Moscow',
  dataset: {
    licence: 'MIT',
    attribution:
      'Skoltech Anomaly Benchmark (SKAB), I. D. Katser and V. O. Kozitsin, Kaggle 2020, doi:10.34740/KAGGLE/DSV/1693952; MIT License, Copyright (c) 2020 Waico, inc (repository licence at commit 88ef9c6)',
    upstream: 'waico/SKAB@88ef9c6267f33142a46a2f11c49c975300349c08 (data/valve1/0–7.csv, data/other/23.csv)',
    licenceFile: { sourceName: 'LICENSE-upstream-MIT-at-88ef9c6.txt', targetName: 'LICENSE-skab-MIT-at-88ef9c6.txt' },
  },
  matches: (header) => COLUMNS.every((c) => header.includes(c)) && header.includes('Accelerometer1RMS'),
  map: mapSkab,
};

function mapSkab(ctx: MapperContext): MapperOutput {
  const { table, report } = ctx;
  const col = Object.fromEntries(COLUMNS.map((c) => [c, table.header.indexOf(c)])) as Record<string, number>;
  const stem = basename(table.fileName, '.csv');
  const deviceId = `skab-${stem.split('_')[0] ?? 'pump'}-pump`.toLowerCase();
  const topic = buildTopic({ tenant: TENANT, kind: 'electrical_fire', deviceId, channel: 'telemetry' });
  const messages: MappedMessage[] = [];
  const events: { ts: number; tsEnd: number; label: string }[] = [];
  const filter = new TimeFilter(ctx.window, report);
  let prevTs: number | undefined;
  let seq = 0;
  let anomalyOpen: { ts: number; tsEnd: number; label: string } | undefined;

  for (const { line, cells } of table.rows) {
    report.data.rows++;
    if (cells.length !== table.header.length) {
      report.defect('malformed_row', line, `row has ${cells.length} cells, the header ${table.header.length}`, 'skipped');
      continue;
    }
    const m = TIMESTAMP.exec(cells[col.datetime as number] ?? '');
    const ts = m ? localToEpochMs({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]! }, skabMapper.zone) : undefined;
    if (ts === undefined || (prevTs !== undefined && ts <= prevTs)) {
      report.defect('bad_time', line, 'datetime is not a date-time after the previous row', 'skipped');
      continue;
    }
    if (prevTs !== undefined && ts - prevTs > GAP_MS) {
      report.defect('gap', line, `no row for a while before this one (e.g. ${(ts - prevTs) / 1000} s: upstream files joined end to end)`, 'noted (nothing to send)');
    }
    prevTs = ts;

    // Labelled faults → events (from the whole file, whatever the window).
    const anomaly = numberCell(cells[col.anomaly as number]) === 1;
    if (anomaly && !anomalyOpen) {
      anomalyOpen = { ts, tsEnd: ts, label: 'SKAB anomaly (labelled fault)' };
      events.push(anomalyOpen);
    } else if (anomaly && anomalyOpen) anomalyOpen.tsEnd = ts;
    else anomalyOpen = undefined;
    if (numberCell(cells[col.changepoint as number]) === 1) events.push({ ts, tsEnd: ts, label: 'SKAB changepoint' });

    const current = numberCell(cells[col.Current as number]);
    const voltage = numberCell(cells[col.Voltage as number]);
    const temp = numberCell(cells[col.Temperature as number]);
    if (current === undefined || voltage === undefined || temp === undefined) {
      report.defect('bad_number', line, 'Current, Voltage or Temperature is not a number', 'skipped');
      continue;
    }
    // Real defect (data README §4): Current and Voltage swapped; kept out rather than guessed back.
    if (voltage < MIN_PLAUSIBLE_V && current > MAX_PLAUSIBLE_A) {
      report.defect('swapped_current_voltage', line, `Current and Voltage swapped (e.g. Current ${current} A, Voltage ${voltage} V)`, 'skipped');
      continue;
    }
    if (voltage < MIN_PLAUSIBLE_V) {
      report.defect('implausible_voltage', line, `Voltage far below any supply voltage with a normal current (e.g. ${voltage} V at ${current} A)`, 'skipped');
      continue;
    }
    if (!filter.keep(ts)) continue;
    const data = { current_a: { a: round(current, 3) }, voltage_v: { a: round(voltage, 2) }, temp_c: [round(temp, 2)] };
    messages.push({ ts, topic, payload: { ts, seq: seq++, data } });
    report.data.rows_used++;
  }
  return {
    devices: [
      {
        tenant: TENANT,
        device_id: deviceId,
        kind: 'electrical_fire',
        model: 'SKAB test bed: pump motor supply current/voltage, motor temperature',
        site: 'Skoltech SKAB test bed',
        location: `pump motor (${stem})`,
        heartbeat_s: 1,
        attrs: { source_file: table.fileName },
      },
    ],
    messages,
    events,
    notes: ['motor housing temperature is sent as probe channel 1 (temp_c[0]); the fluid thermocouple, pressure, flow and vibration are not sent.'],
  };
}
