import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readCapture } from '../../../src/capture/capture-format.js';
import { runImport } from '../../../src/cli/import-command.js';
import { REAL_DATA } from './real-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'rg-import-cmd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runImport(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('import-command', () => {
  test('writes the capture, its report and the upstream licence text beside it, and prints the findings', () => {
    const out = join(tmp, 'skab.jsonl.gz');
    const res = run([join(REAL_DATA, 'electrical_skab/valve1_files0-7_2020-03-09_1014-1254.csv'), '--out', out]);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/defect swapped_current_voltage: 10 .*lines 736, 768/);
    expect(readCapture(out).messages).toHaveLength(9003);
    const report = JSON.parse(readFileSync(join(tmp, 'skab.report.json'), 'utf8')) as { defects: Record<string, { count: number }> };
    expect(report.defects.swapped_current_voltage?.count).toBe(10);
    expect(existsSync(join(tmp, 'LICENSE-skab-MIT-at-88ef9c6.txt'))).toBe(true);
  });

  test('usage errors exit 2 with the usage text naming every mapper', () => {
    for (const argv of [[], ['x.csv'], ['x.csv', '--out'], ['a.csv', 'b.csv', '--out', 'c.jsonl.gz']]) {
      const res = run(argv);
      expect(res.code, argv.join(' ')).toBe(2);
      expect(res.err).toMatch(/twizy.*\n.*fsri-fire/s);
    }
  });

  test('a bad --from is an error naming the flag and the zone', () => {
    const src = join(REAL_DATA, 'dust_beijing_prsa/PRSA_6urban_2015-11-15_to_2016-01-14.csv');
    expect(() => run([src, '--out', join(tmp, 'x.jsonl.gz'), '--from', '26/11/2015'])).toThrow(/--from .*Asia\/Shanghai/);
  });
});
