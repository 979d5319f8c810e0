import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { simulateCommand } from '../../src/cli/simulate-command.js';
import { loadScenarioFile, scenarioMessages, scenarioSeedYaml } from '../../src/sim/scenario/index.js';
import { REPO_ROOT, metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';

/** `riskgate simulate --scenario FILE` plays a scenario's own devices and timeline into a gateway. */
describe('simulate --scenario', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-sim-scn-'));
  let gw: TestGateway | undefined;
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every message of the gas leak scenario is published and accepted, and the expected events are listed', async () => {
    const file = join(REPO_ROOT, 'devices/scenarios/gas-leak-kitchen.yaml');
    const loaded = loadScenarioFile(file);
    if (!loaded.ok) throw new Error('scenario invalid');
    const seed = join(dir, 'seed.yaml');
    writeFileSync(seed, scenarioSeedYaml(loaded.value));
    gw = await startTestGateway({ REGISTRY_SEED: seed, INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '100000' });
    // Device times end before now (the whole scenario lies in the past), so a fast replay stays inside the ingest window.
    const startMs = Date.now() - loaded.value.durationMs - 60_000;
    const readings = scenarioMessages(loaded.value, { seed: 1, startMs }).reduce((n, m) => n + m.readingTs.length, 0);
    let out = '';
    let err = '';
    const code = await simulateCommand(['--scenario', file, '--broker', gw.mqttUrl, '--speed', '100000', '--start', String(startMs)], {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
    });
    expect(code, err).toBe(0);
    await waitFor(async () => (await metricValue(gw!.httpUrl, 'riskgate_readings_accepted_total')) >= readings, { timeoutMs: 15_000, intervalMs: 100, what: 'every reading accepted' });
    expect(await metricValue(gw.httpUrl, 'riskgate_readings_accepted_total')).toBe(readings);
    expect(await metricValue(gw.httpUrl, 'riskgate_readings_rejected_total')).toBe(0);
    expect(out).toContain(`expected alert events (${loaded.value.expect.length})`);
    expect(out).toContain('gas.lel');
  });
});
