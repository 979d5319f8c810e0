// The captures in devices/captures/ are what the importer makes of the real recordings today, every message passes
// the gateway's own validation (so a replay is rejected nowhere), and the licence texts travel with them.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { formatCapture, readCapture } from '../../../src/capture/capture-format.js';
import { parseTopic } from '../../../src/ingest/mqtt/topics.js';
import { parseEnvelope } from '../../../src/kinds/envelope.js';
import { getKind } from '../../../src/kinds/index.js';
import { validateData } from '../../../src/kinds/validate.js';
import { COMMITTED, importReal, REAL_DATA, REPO_ROOT } from './real-data.js';

const DIR = join(REPO_ROOT, 'devices/captures');

describe('committed captures', () => {
  test.each(COMMITTED)('$file is what `riskgate import` makes of $source today', ({ file, source, options }) => {
    const path = join(DIR, file);
    expect(statSync(path).size).toBeLessThan(1024 * 1024);
    expect(gunzipSync(readFileSync(path)).toString('utf8')).toBe(formatCapture(importReal(source, options).capture));
  });

  test.each(COMMITTED)('$file: every message is on a registered device of the header and passes the gateway validation', ({ file }) => {
    const cap = readCapture(join(DIR, file));
    const devices = new Map(cap.header.devices.map((d) => [`${d.tenant}/${d.device_id}`, d.kind]));
    for (const m of cap.messages) {
      const topic = parseTopic(m.topic);
      if (!topic.ok) throw new Error(`${file}: ${topic.reason}`);
      expect(devices.get(`${topic.topic.tenant}/${topic.topic.deviceId}`)).toBe(topic.topic.kind);
      const env = parseEnvelope(m.payload);
      if (!env.ok) throw new Error(`${file} t=${m.t}: ${env.error.message}`);
      for (const e of env.entries) {
        const v = validateData(getKind(topic.topic.kind), e.data, 'data');
        if (!v.ok) throw new Error(`${file} t=${m.t}: ${v.errors.map((x) => x.message).join('; ')}`);
      }
    }
  });

  test('the header carries the attribution the data README requires, verbatim', () => {
    // The README wraps the quoted attributions over lines: compare with whitespace collapsed.
    const readme = readFileSync(join(REAL_DATA, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const twizy = readCapture(join(DIR, 'rsk-twizy-t1.jsonl.gz')).header.attribution;
    expect(readme).toContain(twizy);
    const prsa = readCapture(join(DIR, 'beijing-prsa-2015-11-26.jsonl.gz')).header.attribution;
    expect(readme).toContain(prsa.split('; ')[0] as string);
    for (const { file } of COMMITTED) expect(readCapture(join(DIR, file)).header.licence).toMatch(/^(MIT|CC-BY-4\.0)$/);
  });

  test('the MIT licence texts of the upstream data sit beside the captures, identical to the shared copies, and the README names them', () => {
    const pairs = [
      ['LICENSE-fsri-gasburner-MIT.txt', 'fire_fsri_gasburner/LICENSE-upstream-MIT.txt'],
      ['LICENSE-fsri-ess-MIT.txt', 'gas_fsri_ess_cell/LICENSE-upstream-MIT.txt'],
      ['LICENSE-skab-MIT-at-88ef9c6.txt', 'electrical_skab/LICENSE-upstream-MIT-at-88ef9c6.txt'],
    ];
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    for (const [copy, original] of pairs) {
      expect(existsSync(join(DIR, copy as string)), copy).toBe(true);
      expect(readFileSync(join(DIR, copy as string), 'utf8')).toBe(readFileSync(join(REAL_DATA, original as string), 'utf8'));
      expect(readme).toContain(copy);
    }
    for (const { file } of COMMITTED) expect(readme).toContain(file);
  });
});
