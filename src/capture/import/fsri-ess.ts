import { buildTopic } from '../../ingest/mqtt/topics.js';
import { TimeFilter, type CaptureMapper, type MapperContext, type MapperOutput, type MappedMessage } from './mapper.js';
import { numberCell, round } from './source-table.js';

// UL FSRI 2020 UL 9540A cell-level test (data README §3): 30 18650 cells forced into thermal runaway under a
// calorimetry hood → three gas detectors in the hood's exhaust duct.
//
//   ess-thc  THC (ppm) as a methane-calibrated combustible-gas detector: %LEL = ppm / 500 (CH4 LEL 5 %VOL = 50 000 ppm,
//            domain.md §1.2). Assumption: the THC analyser's ppm are methane-equivalent (its calibration gas is not
//            stated upstream).
//   ess-h2   H2 as %LEL = ppm / 400 (H2 LEL 4 %VOL = 40 000 ppm, domain.md §1.2 ❓ textbook value).
//   ess-co   CO in ppm (toxic-gas detector).
// Only THC is given as a concentration; CO and H2 are given as flows (L/min) through the hood. Flow = fraction ×
// exhaust flow, so ppm = flow / Q × 10⁶, with the exhaust flow Q estimated once per file as the median of
// THC flow / THC fraction over the rows where THC is clearly above background (docs/captures.md).

const TENANT = 'ulfsri-ess';
/** The source has no wall clock: t = 0 is put at this nominal instant (not the test's date). */
export const ESS_NOMINAL_START_MS = Date.UTC(2020, 0, 1, 0, 0, 0);
/** ppm per %LEL for methane: LEL 5 %VOL = 50 000 ppm. */
export const CH4_PPM_PER_LEL = 500;
/** ppm per %LEL for hydrogen: LEL 4 %VOL = 40 000 ppm. */
export const H2_PPM_PER_LEL = 400;
/** THC above this (ppm) counts for the exhaust-flow estimate; the background is about 2 ppm. */
const THC_FOR_FLOW_PPM = 20;
/** A flow below this (L/min) is an analyser offset, not noise around zero (CO and THC noise stays within ±0.2). */
const OFFSET_FLOW_LPM = -1;

const COL = {
  time: 'Time (s)',
  runaway: 'Thermal Runaway',
  flaming: 'Flaming',
  thc: 'THC (ppm)',
  coFlow: 'CO Flow (L/min)',
  thcFlow: 'THC Flow (L/min)',
  h2Flow: 'H2 Flow (L/min)',
} as const;

export const fsriEssMapper: CaptureMapper = {
  name: 'fsri-ess',
  summary: 'UL FSRI li-ion cell thermal runaway (THC ppm, CO/H2 flows) → three gas detectors (CH4-eq %LEL, H2 %LEL, CO ppm)',
  delimiter: ',',
  zone: 'none',
  dataset: {
    licence: 'MIT',
    attribution:
      '2020 UL 9540A Installation-Level Test Experimental Data, McKinnon, Barowy, Schraiber, Regan (UL FSRI), doi:10.5281/zenodo.7003380; MIT License, Copyright (c) 2022 UL FSRI',
    upstream: 'ulfsri/fsri-lib-ess-demo-2020@8d140bc02f2e2cd04c2ca95f1d925ec4c24365b3 (01_Data/Cell_Level_Experiment/)',
    licenceFile: { sourceName: 'LICENSE-upstream-MIT.txt', targetName: 'LICENSE-fsri-ess-MIT.txt' },
  },
  matches: (header) => Object.values(COL).every((c) => header.includes(c)),
  map: mapEss,
};

/** Median exhaust flow (L/min) from the rows where THC is well above background; undefined with fewer than 10. */
export function exhaustFlowLpm(rows: { thcPpm?: number; thcFlowLpm?: number }[]): number | undefined {
  const q = rows
    .filter((r) => r.thcPpm !== undefined && r.thcPpm >= THC_FOR_FLOW_PPM && r.thcFlowLpm !== undefined && r.thcFlowLpm > 0)
    .map((r) => (r.thcFlowLpm as number) / ((r.thcPpm as number) * 1e-6))
    .sort((a, b) => a - b);
  if (q.length < 10) return undefined;
  return q[Math.floor(q.length / 2)];
}

function mapEss(ctx: MapperContext): MapperOutput {
  const { table, report } = ctx;
  const idx = Object.fromEntries(Object.entries(COL).map(([k, c]) => [k, table.header.indexOf(c)])) as Record<keyof typeof COL, number>;
  const q = exhaustFlowLpm(table.rows.map((r) => ({ thcPpm: numberCell(r.cells[idx.thc]), thcFlowLpm: numberCell(r.cells[idx.thcFlow]) })));
  if (q === undefined) report.note('too few rows with THC above background to estimate the exhaust flow: CO and H2 are not sent');
  else report.note(`exhaust flow estimated at ${Math.round(q)} L/min (${round(q / 60_000, 2)} m³/s), median of THC flow / THC fraction over THC ≥ ${THC_FOR_FLOW_PPM} ppm`);

  const device = (id: string, model: string) => ({
    tenant: TENANT,
    device_id: id,
    kind: 'gas' as const,
    model,
    site: 'UL 9540A cell-level test, calorimetry hood',
    location: 'hood exhaust duct',
    heartbeat_s: 1,
    attrs: { source_file: table.fileName },
  });
  const devices = [device('ess-thc', 'combustible-gas detector, methane-calibrated (from THC ppm)')];
  if (q !== undefined) devices.push(device('ess-h2', 'hydrogen detector (from H2 flow / exhaust flow)'), device('ess-co', 'CO detector (from CO flow / exhaust flow)'));
  const topic = (id: string) => buildTopic({ tenant: TENANT, kind: 'gas', deviceId: id, channel: 'telemetry' });
  const [thcTopic, h2Topic, coTopic] = [topic('ess-thc'), topic('ess-h2'), topic('ess-co')];

  const messages: MappedMessage[] = [];
  const events: { ts: number; label: string }[] = [];
  const filter = new TimeFilter(ctx.window, report);
  let seq = 0;
  let prevT: number | undefined;
  for (const { line, cells } of table.rows) {
    report.data.rows++;
    if (cells.length !== table.header.length) {
      report.defect('malformed_row', line, `row has ${cells.length} cells, the header ${table.header.length}`, 'skipped');
      continue;
    }
    const tS = numberCell(cells[idx.time]);
    if (tS === undefined || (prevT !== undefined && tS <= prevT)) {
      report.defect('bad_time', line, 'Time (s) is not a number after the previous row', 'skipped');
      continue;
    }
    prevT = tS;
    const ts = ESS_NOMINAL_START_MS + Math.round(tS * 1000);
    for (const [key, label] of [['runaway', 'Thermal Runaway'], ['flaming', 'Flaming']] as const) {
      if (cells[idx[key]] === 'TRUE' && !events.some((e) => e.label === label)) events.push({ ts, label });
    }
    if (!filter.keep(ts)) continue;
    const n = seq++;
    let used = false;
    const thc = numberCell(cells[idx.thc]);
    if (thc === undefined) report.defect('bad_number', line, 'THC (ppm) is not a number', 'skipped (THC, that row)');
    else {
      const ppm = nonNegative(thc, line, 'thc', report);
      messages.push({ ts, topic: thcTopic, payload: { ts, seq: n, data: { gas_type: 'CH4', concentration_lel: round(ppm / CH4_PPM_PER_LEL, 3) } } });
      used = true;
    }
    if (q !== undefined) {
      const h2 = numberCell(cells[idx.h2Flow]);
      if (h2 === undefined) report.defect('bad_number', line, 'H2 Flow is not a number', 'skipped (H2, that row)');
      else {
        const ppm = nonNegative((h2 / q) * 1e6, line, 'h2', report, h2);
        messages.push({ ts, topic: h2Topic, payload: { ts, seq: n, data: { gas_type: 'H2', concentration_lel: round(ppm / H2_PPM_PER_LEL, 3) } } });
        used = true;
      }
      const co = numberCell(cells[idx.coFlow]);
      if (co === undefined) report.defect('bad_number', line, 'CO Flow is not a number', 'skipped (CO, that row)');
      else {
        const ppm = nonNegative((co / q) * 1e6, line, 'co', report, co);
        messages.push({ ts, topic: coTopic, payload: { ts, seq: n, data: { gas_type: 'CO', concentration_ppm: Math.round(ppm) } } });
        used = true;
      }
    }
    if (used) report.data.rows_used++;
  }
  return {
    devices,
    messages,
    startTs: ESS_NOMINAL_START_MS,
    events,
    notes: [
      `no wall clock upstream: t = 0 (start of heating) is put at ${new Date(ESS_NOMINAL_START_MS).toISOString()} (nominal).`,
      'cell temperatures, heat release rate and CO2 are not sent (no gas-kind field).',
    ],
  };
}

/** Negative readings become 0 (a detector reads no less); an analyser offset is a defect, noise an adjustment. */
function nonNegative(ppm: number, line: number, gas: string, report: MapperContext['report'], flowLpm?: number): number {
  if (ppm >= 0) return ppm;
  if (flowLpm !== undefined && flowLpm < OFFSET_FLOW_LPM) {
    report.defect(`${gas}_negative_flow`, line, `${gas.toUpperCase()} flow below ${OFFSET_FLOW_LPM} L/min: the analyser's zero is offset`, 'clamped to 0 ppm');
  } else {
    report.adjust(`${gas}_negative_noise`, line, `${gas.toUpperCase()} slightly below zero (noise around the analyser's zero)`, 'clamped to 0 ppm');
  }
  return 0;
}
