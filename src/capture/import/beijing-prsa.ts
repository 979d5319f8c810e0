import { buildTopic } from '../../ingest/mqtt/topics.js';
import { localToEpochMs } from './local-time.js';
import { TimeFilter, type CaptureMapper, type MapperContext, type MapperOutput, type MappedMessage } from './mapper.js';
import { numberCell, round } from './source-table.js';

// Beijing Multi-Site Air Quality, six urban stations, hourly (data README §5) → one dust-concentration monitor per
// station. PM10 (all particles ≤ 10 µm, PM2.5 included) is the closer stand-in for a dust monitor's total reading:
// dust_conc_mgm3 = PM10 µg/m³ ÷ 1000. PM2.5 has no dust-kind field of its own and is not sent. A missing PM10 (`NA`,
// a monitor outage) sends nothing for that station-hour: an absent reading, not a zero.

const TENANT = 'beijing-prsa';
const COLUMNS = ['year', 'month', 'day', 'hour', 'PM2.5', 'PM10', 'station'];

export const beijingMapper: CaptureMapper = {
  name: 'beijing-prsa',
  summary: 'Beijing PRSA hourly PM10 at six stations → dust (dust_conc_mgm3 = PM10 µg/m³ ÷ 1000)',
  delimiter: ',',
  // The source gives no zone; Beijing local time (UTC+8, no DST) per the data README ❓.
  zone: 'Asia/Shanghai',
  dataset: {
    licence: 'CC-BY-4.0',
    attribution:
      'Beijing Multi-Site Air-Quality Data, S. Zhang et al., UCI Machine Learning Repository, doi:10.24432/C5RK5G, CC BY 4.0; Zhang et al. (2017) Proc. R. Soc. A 473:20170457',
    upstream: 'UCI Machine Learning Repository #501, via Peiris94-dev/Beijing-Multi-Site-Air-Quality-Analysis@0aa46c055fcca7da49ebac9329435ffe674b74c3',
  },
  matches: (header) => COLUMNS.every((c) => header.includes(c)),
  map: mapBeijing,
};

function mapBeijing(ctx: MapperContext): MapperOutput {
  const { table, report } = ctx;
  const col = Object.fromEntries(COLUMNS.map((c) => [c, table.header.indexOf(c)])) as Record<string, number>;
  const stations = new Map<string, { deviceId: string; topic: string; seq: number }>();
  const messages: MappedMessage[] = [];
  const filter = new TimeFilter(ctx.window, report);
  const lastTs = new Map<string, number>();

  for (const { line, cells } of table.rows) {
    report.data.rows++;
    if (cells.length !== table.header.length) {
      report.defect('malformed_row', line, `row has ${cells.length} cells, the header ${table.header.length}`, 'skipped');
      continue;
    }
    const [year, month, day, hour] = ['year', 'month', 'day', 'hour'].map((c) => numberCell(cells[col[c] as number]));
    const ts =
      year === undefined || month === undefined || day === undefined || hour === undefined
        ? undefined
        : localToEpochMs({ year, month, day, hour, minute: 0, second: 0 }, beijingMapper.zone);
    const name = cells[col.station as number] ?? '';
    if (ts === undefined || !/^[A-Za-z]{1,40}$/.test(name)) {
      report.defect('bad_time_or_station', line, 'year/month/day/hour or station is not valid', 'skipped');
      continue;
    }
    if ((lastTs.get(name) ?? -Infinity) >= ts) {
      report.defect('non_monotonic_time', line, `${name}: hour is not after the station's previous row`, 'skipped');
      continue;
    }
    lastTs.set(name, ts);
    if (!filter.keep(ts)) continue;
    const pm10 = numberCell(cells[col.PM10 as number]);
    if (pm10 === undefined) {
      report.defect('missing_pm10', line, `PM10 missing (e.g. ${name}: ${JSON.stringify(cells[col.PM10 as number])}, a monitor outage)`, 'skipped (no reading that station-hour)');
      continue;
    }
    if (pm10 < 0) {
      report.defect('negative_pm10', line, `${name}: PM10 ${pm10} < 0`, 'skipped');
      continue;
    }
    let st = stations.get(name);
    if (!st) {
      const deviceId = `pm-${name.toLowerCase()}`;
      st = { deviceId, topic: buildTopic({ tenant: TENANT, kind: 'dust', deviceId, channel: 'telemetry' }), seq: 0 };
      stations.set(name, st);
    }
    messages.push({ ts, topic: st.topic, payload: { ts, seq: st.seq++, data: { dust_conc_mgm3: round(pm10 / 1000, 3) } } });
    report.data.rows_used++;
  }
  const pm25Missing = table.rows.filter((r) => r.cells[col['PM2.5'] as number] === 'NA').length;
  const notes = [`PM2.5 is not sent (no dust-kind field); the file has ${pm25Missing} PM2.5 = NA station-hours in all.`];
  return {
    devices: [...stations.entries()].map(([name, st]) => ({
      tenant: TENANT,
      device_id: st.deviceId,
      kind: 'dust' as const,
      model: 'national air-quality monitoring station (PM10), read as a dust-concentration monitor',
      site: `${name} station, Beijing`,
      location: name,
      heartbeat_s: 3600,
      attrs: { station: name },
    })),
    messages,
    notes,
  };
}
