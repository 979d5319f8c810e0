// A row of garbage anywhere never crashes an import: it is a defect with its line number, and the good rows around
// it still make readings. One table row per mapper: a header, good rows and garbage in the shape each source can get.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { importRecording } from '../../../src/capture/import/import-capture.js';

const tmp = mkdtempSync(join(tmpdir(), 'rg-garbage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TWIZY_HEADER = 'Date,Time,Soc,Speed,Mode,LAT,LON,ALT,GpsSpeed,Temperature,Humidity,Weather,WindSpeedAv,Traffic,SpeedLimit';
const twizy = (date: string, time: string, speed = '30.5', limit = '40') => `${date},${time},90,${speed},D,33.98,-6.72,140,30,22,68,Clouds,3,0,${limit}`;
const fireHeader = 'Time,Timestamp,Elapsed Time,Kitchen Temperature 0.02 m Below Ceiling,Den Temperature 0.02 m Below Ceiling';
const essHeader =
  'Time (s),Thermal Runaway,Flaming,THC (ppm),Heat Release Rate (kW),CO Flow (L/min),CO2 Flow (L/min),THC Flow (L/min),H2 Flow (L/min),Cell 1 Temperature (C)';
const essRow = (t: number, thc = 2, co = 0.1) => `${t},FALSE,FALSE,${thc},0,${co},0.5,${(thc * 125_000) / 1e6},1,25`;
const skabHeader = 'datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;Voltage;Volume Flow RateRMS;anomaly;changepoint';
const skabRow = (s: string, current = '1.3', voltage = '230') => `2020-03-09 10:14:${s};0.02;0.04;${current};0.05;75;26;${voltage};32;0;0`;
const prsaHeader = '"No","year","month","day","hour","PM2.5","PM10","SO2","NO2","CO","O3","TEMP","PRES","DEWP","RAIN","wd","WSPM","station"';
const prsaRow = (hour: string, pm10: string, station = 'Dongsi') => `1,2015,11,26,${hour},80,${pm10},10,50,1000,5,3,1020,-5,0,"N",1,"${station}"`;

const CASES: { name: string; file: string; lines: string[]; mapper: string; good: number; defects: Record<string, number[]> }[] = [
  {
    name: 'twizy',
    file: 'T9_01_01_2021_1.csv',
    mapper: 'twizy',
    lines: [
      TWIZY_HEADER,
      twizy('06/30/2021', '10:00:00'),
      twizy('06/30/2021', '10:00:01', 'NaN'),
      twizy('99/99/9999', '10:00:02'),
      '\u0000\u0001 garbage,,,',
      twizy('06/30/2021', 'noon'),
      twizy('06/30/2021', '10:00:05', '31', 'x'),
      twizy('06/30/2021', '10:00:04'),
      twizy('06/30/2021', '10:00:09'),
    ],
    good: 4,
    defects: { bad_speed: [3], garbage_date: [4], gnss_gap: [4], malformed_row: [5], bad_time: [6], bad_speed_limit: [7], non_monotonic_time: [8], gap: [7, 9] },
  },
  {
    name: 'fsri-fire',
    file: 'Fire_X.csv',
    mapper: 'fsri-fire',
    lines: [fireHeader, '-2,2016-11-09 08:58:58,00:00:01,20.1,20.2', '0,2016-11-09 08:59:00,00:00:03,NaN,21', '2,2016-13-09 08:59:02,x,22,22', '4,2016-11-09 08:59:04', '6,2016-11-09 08:59:06,x,250,-60'],
    good: 4,
    defects: { bad_number: [3], bad_timestamp: [4], malformed_row: [5], below_detector_range: [6] },
  },
  {
    name: 'fsri-ess',
    file: 'Cell_X.csv',
    mapper: 'fsri-ess',
    lines: [essHeader, ...Array.from({ length: 12 }, (_, i) => essRow(i, 100 + i)), 'oops,,,', essRow(20, Number.NaN), essRow(21, 50, -5), essRow(10)],
    good: 12 * 3 + 1 * 2 + 3,
    defects: { malformed_row: [14], bad_number: [15], co_negative_flow: [16], bad_time: [17] },
  },
  {
    name: 'skab',
    file: 'valve9.csv',
    mapper: 'skab',
    lines: [skabHeader, skabRow('00'), skabRow('01', '240.1', '1.2'), skabRow('02', 'abc'), 'broken;row', skabRow('04', '1.1', '0.9'), skabRow('05')],
    good: 2,
    defects: { swapped_current_voltage: [3], bad_number: [4], malformed_row: [5], implausible_voltage: [6] },
  },
  {
    name: 'beijing-prsa',
    file: 'PRSA_X.csv',
    mapper: 'beijing-prsa',
    lines: [prsaHeader, prsaRow('0', '100'), prsaRow('1', 'NA'), prsaRow('25', '100'), prsaRow('2', '-3'), prsaRow('2', '90', 'Bad Station!'), '"short","row"', prsaRow('3', '120')],
    good: 2,
    defects: { missing_pm10: [3], bad_time_or_station: [4, 6], negative_pm10: [5], malformed_row: [7] },
  },
];

describe('garbage rows', () => {
  test.each(CASES)('$name: garbage is flagged by line, never a crash, and the good rows still make readings', (c) => {
    const path = join(tmp, c.file);
    writeFileSync(path, `${c.lines.join('\r\n')}\r\n`);
    const r = importRecording({ source: path, mapper: c.mapper });
    expect(r.capture.messages.length).toBe(c.good);
    for (const [code, lines] of Object.entries(c.defects)) expect(r.report.defects[code]?.lines, code).toEqual(lines);
    expect(Object.keys(r.report.defects).sort()).toEqual(Object.keys(c.defects).sort());
  });

  test('a file that is nothing but garbage gives an empty capture and a report, not an exception', () => {
    const path = join(tmp, 'T0_garbage.csv');
    writeFileSync(path, `${TWIZY_HEADER}\n\u00ff\u00fe\n;;;;\n${'x,'.repeat(14)}x\n`);
    const r = importRecording({ source: path });
    expect(r.mapper.name).toBe('twizy');
    expect(r.capture.messages).toEqual([]);
    expect(r.report.rows).toBe(3);
  });

  test('a header no mapper knows is refused with the list of mappers', () => {
    const path = join(tmp, 'unknown.csv');
    writeFileSync(path, 'a,b,c\n1,2,3\n');
    expect(() => importRecording({ source: path })).toThrow(/no mapper recognises.*twizy, fsri-fire, fsri-ess, skab, beijing-prsa/);
  });
});
