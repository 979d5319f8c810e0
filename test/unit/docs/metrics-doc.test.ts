import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createMetrics } from '../../../src/lib/metrics.js';

const DOC = readFileSync(join(import.meta.dirname, '../../../docs/metrics.md'), 'utf8');

test('docs/metrics.md lists every metric the gateway registers, and no metric that does not exist', async () => {
  const names = (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name).sort();
  const documented = [...DOC.matchAll(/^\| `(riskgate_[a-z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
  expect(documented).toEqual(names);
});
