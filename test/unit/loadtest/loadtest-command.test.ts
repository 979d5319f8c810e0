import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runLoadtestCli } from '../../../src/cli/loadtest-command.js';

function io(): { out: string[]; err: string[]; io: { stdout: (s: string) => void; stderr: (s: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) } };
}

describe('loadtest-command', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rg-loadtest-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('--write-seed writes the devices of the capture, the scenario and the fleet once each, and exits 0', async () => {
    const seed = join(tmp, 'seed.json');
    const t = io();
    const code = await runLoadtestCli(['--capture', 'devices/captures/skab-valve1.jsonl.gz', '--scenario', 'gas-leak-kitchen', '--devices', '5', '--fleet-rate', '10', '--write-seed', seed], t.io);
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(seed, 'utf8')) as { tenants: { tenant: string }[]; devices: { tenant: string; device_id: string }[] };
    const keys = doc.devices.map((d) => `${d.tenant}/${d.device_id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('shuxiang-hotpot/gas-kitchen-01');
    expect(keys.filter((k) => k.startsWith('loadtest/lt-gas-'))).toHaveLength(5);
    expect(keys.length).toBeGreaterThan(6); // and the capture's devices
    expect(doc.tenants.map((x) => x.tenant)).toEqual(['shuxiang-hotpot']);
    expect(t.out.join('')).toContain(`REGISTRY_SEED=${seed}`);
  });

  test.each([
    [[], /give a workload/],
    [['--devices', '10'], /a fleet needs --rate/],
    [['--scenario', 'gas-leak-kitchen', '--speed', 'fast'], /--speed must be like/],
    [['--scenario', 'no-such-incident'], /no scenario no-such-incident/],
    [['--devices', '10', '--rate=0'], /--rate must be a number > 0/],
    [['--devices', '10', '--rate', '5', '--qos', '2', '--token', 't'], /--qos must be 0 or 1/],
    [['--jt808'], /--jt808 needs --terminals/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
  ])('%j is a usage error: exit 2 with the reason and the usage', async (argv, reason) => {
    const t = io();
    expect(await runLoadtestCli(argv, t.io)).toBe(2);
    expect(t.err.join('')).toMatch(reason);
    expect(t.err.join('')).toContain('riskgate loadtest --gateway');
  });
});
