import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseEnvelope } from '../../../src/kinds/envelope.js';
import { KINDS } from '../../../src/kinds/index.js';
import { isKindName } from '../../../src/kinds/kind.js';
import { validateData } from '../../../src/kinds/validate.js';
import { parseTopic } from '../../../src/ingest/mqtt/topics.js';
import { REPO_ROOT } from '../../helpers/gateway.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Example payloads'), readme.indexOf('### Rejections'));
// Each example: "`kind` (...), topic `rg/v1/...`:" followed by a ```json block.
const examples = [...section.matchAll(/topic\s+`([^`]+)`:\s*```json\n([^\n]+)\n```/g)].map((m) => ({ topic: m[1] as string, json: m[2] as string }));

describe('README example payloads', () => {
  test('there is one example per kind', () => {
    const kinds = examples.map((e) => e.topic.split('/')[3]);
    expect(kinds.sort()).toEqual(Object.keys(KINDS).sort());
  });

  test.each(examples)('$topic is a valid payload for its topic', ({ topic, json }) => {
    const t = parseTopic(topic);
    expect(t.ok).toBe(true);
    if (!t.ok || !isKindName(t.topic.kind)) return;
    const env = parseEnvelope(JSON.parse(json));
    expect(env.ok).toBe(true);
    if (!env.ok) return;
    expect(env.entries).toHaveLength(1);
    const v = validateData(KINDS[t.topic.kind], env.entries[0]?.data, 'data');
    expect(v.ok, JSON.stringify(v)).toBe(true);
  });
});
