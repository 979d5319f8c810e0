import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importRecording, type ImportOptions, type ImportResult } from '../../../src/capture/import/import-capture.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** The real recordings, copied into the repository with their README and licence texts (devices/recordings/README.md). */
export const REAL_DATA = join(REPO_ROOT, 'devices', 'recordings');

if (!existsSync(REAL_DATA)) throw new Error(`the real recordings are expected at ${REAL_DATA}`);

/** The committed captures and the import that makes each (docs/captures.md "Commands"). */
export const COMMITTED: { file: string; source: string; options: Omit<ImportOptions, 'source'> }[] = [
  { file: 'fsri-gasburner-4.jsonl.gz', source: 'fire_fsri_gasburner/Gas_Burner_4.csv', options: {} },
  { file: 'fsri-ess-cell.jsonl.gz', source: 'gas_fsri_ess_cell/Cell_Level_Experiment_t0000-2999.csv', options: {} },
  { file: 'skab-valve1.jsonl.gz', source: 'electrical_skab/valve1_files0-7_2020-03-09_1014-1254.csv', options: {} },
  { file: 'skab-other23.jsonl.gz', source: 'electrical_skab/other23_hot_water_supply_2020-02-08.csv', options: {} },
  { file: 'rsk-twizy-t1.jsonl.gz', source: 'vehicle_rsk_twizy/T1_06_30_2021_1.csv', options: {} },
  { file: 'rsk-twizy-t3.jsonl.gz', source: 'vehicle_rsk_twizy/T3_04_22_2021_2.csv', options: {} },
  { file: 'beijing-prsa-2015-11-26.jsonl.gz', source: 'dust_beijing_prsa/PRSA_6urban_2015-11-15_to_2016-01-14.csv', options: { from: '2015-11-26', to: '2015-12-01' } },
];

const cache = new Map<string, ImportResult>();

/** Imports a real recording (relative to {@link REAL_DATA}); memoised per file and options. */
export function importReal(source: string, options: Omit<ImportOptions, 'source'> = {}): ImportResult {
  const key = `${source} ${JSON.stringify(options)}`;
  let r = cache.get(key);
  if (!r) {
    r = importRecording({ source: join(REAL_DATA, source), ...options });
    cache.set(key, r);
  }
  return r;
}

/** The payload `data` of every message to one device, with its device time. */
export function readingsOf(r: ImportResult, deviceId: string): { ts: number; data: Record<string, unknown> }[] {
  return r.capture.messages
    .filter((m) => m.topic.split('/')[4] === deviceId)
    .map((m) => {
      const p = m.payload as { ts: number; data: Record<string, unknown> };
      return { ts: p.ts, data: p.data };
    });
}
