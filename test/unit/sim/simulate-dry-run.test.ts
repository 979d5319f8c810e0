import { describe, expect, test } from 'vitest';
import { simulateCommand } from '../../../src/cli/simulate-command.js';
import type { LoadScenario } from '../../../src/sim/scenario-hook.js';

async function run(args: string[], loadScenario?: LoadScenario): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await simulateCommand(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), loadScenario });
  return { code, out, err };
}

const DRY = ['--fleet', 'devices/fleets/demo.yaml', '--dry-run', '--duration', '60s', '--start', '2025-03-15T10:00:00+08:00'];

describe('riskgate simulate --dry-run', () => {
  test('the same seed prints the identical messages; another seed other ones', async () => {
    const a = await run([...DRY, '--seed', '5']);
    const b = await run([...DRY, '--seed', '5']);
    const c = await run([...DRY, '--seed', '6']);
    expect(a.code).toBe(0);
    const lines = a.out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(150);
    const first = JSON.parse(lines[0] as string) as { topic: string; payload: { ts: number } };
    expect(first.topic).toMatch(/^rg\/v1\/[^/]+\/[a-z_]+\/[^/]+\/telemetry$/);
    expect(first.payload.ts).toBeGreaterThanOrEqual(Date.parse('2025-03-15T10:00:00+08:00'));
    expect(b.out).toBe(a.out);
    expect(c.out).not.toBe(a.out);
    expect(a.err).toMatch(/fleet demo \(devices\/fleets\/demo\.yaml\): 15 devices of 6 enterprises/);
  });

  test('--scenario hands the devices to the scenario runner and applies its override', async () => {
    let seen = 0;
    const loader: LoadScenario = (file, ctx) => {
      seen = ctx.devices.length;
      expect(file).toBe('leak.yaml');
      return { name: 'leak', durationS: 30, reading: (d, data) => (d.kind === 'gas' ? { ...data, concentration_lel: 55 } : undefined) };
    };
    const r = await run(['--fleet', 'devices/fleets/demo.yaml', '--dry-run', '--scenario', 'leak.yaml', '--start', '1742004000000'], loader);
    expect(r.code).toBe(0);
    expect(seen).toBe(15);
    const gas = r.out.trim().split('\n').map((l) => JSON.parse(l) as { topic: string; payload: { ts: number; data: Record<string, unknown> } }).filter((m) => m.topic.includes('/gas/'));
    expect(gas.length).toBeGreaterThan(10);
    for (const m of gas) expect(m.payload.data.concentration_lel).toBe(55);
    // The scenario's 30 s are the run's length.
    expect(Math.max(...gas.map((m) => m.payload.ts))).toBeLessThanOrEqual(1742004000000 + 30_000);
  });

  test.each([
    { args: [], want: /--fleet is required/ },
    { args: ['--fleet', 'devices/fleets/demo.yaml', '--rate', '0'], want: /--rate must be a positive number/ },
    { args: ['--fleet', 'devices/fleets/demo.yaml', '--duration', 'soon'], want: /--duration must be like 30s/ },
    { args: ['--fleet', 'devices/fleets/demo.yaml', '--dry-run'], want: /--dry-run needs --duration/ },
    { args: ['--fleet', 'devices/fleets/demo.yaml', '--frobnicate'], want: /Unknown option '--frobnicate'/ },
    { args: ['--fleet', 'devices/fleets/demo.yaml', '--username', 'u', '--credentials-file', 'c.json'], want: /not both/ },
  ])('bad arguments exit 2: $want', async ({ args, want }) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(want);
  });

  test('a fleet file with problems exits 2 and lists them as file:line', async () => {
    const r = await run(['--fleet', 'test/fixtures/does-not-exist.yaml', '--dry-run', '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^test\/fixtures\/does-not-exist\.yaml:1:1 ENOENT/m);
  });
});
