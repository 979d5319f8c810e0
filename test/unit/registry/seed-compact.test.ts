import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { loadDeviceFile } from '../../../src/registry/seed.js';

const CITY = join(import.meta.dirname, '../../../devices/fleets/city.yaml');

test('a generated fleet read by the compact reader equals the full YAML parse (city.yaml, 20 000 devices)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-seed-'));
  try {
    // A tab in a comment is outside the compact subset: this copy goes through the full parser.
    const full = join(dir, 'city-full.yaml');
    writeFileSync(full, `#\tforces the full parser\n${readFileSync(CITY, 'utf8')}`);
    const fast = loadDeviceFile(CITY);
    const slow = loadDeviceFile(full);
    expect(fast.ok && slow.ok).toBe(true);
    if (!fast.ok || !slow.ok) return;
    expect(fast.devices).toHaveLength(20_000);
    expect(fast.devices).toEqual(slow.devices);
    expect(fast.tenants).toEqual(slow.tenants);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compact file that fails the schema is reported by the full parser with its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-seed-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\ndevices:\n  - { tenant: t1, device_id: d1, kind: gas }\n  - { tenant: t1, device_id: d2, kind: plasma }\n');
    const r = loadDeviceFile(bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]).toMatchObject({ line: 4 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
