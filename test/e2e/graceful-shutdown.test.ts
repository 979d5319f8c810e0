import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURE_DEVICES, REPO_ROOT } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/services.js';

/**
 * Issue 5 item 4 (first part): SIGTERM flushes what was accepted before the process exits 0. The flush interval is
 * long (60 s) so that, without the flush on stop, none of the readings would be in the store.
 */
describe('graceful shutdown', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rg-term-'));
  let proc: ChildProcess | undefined;
  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('SIGTERM writes every accepted reading to the store and exits 0', async () => {
    const httpPort = await freePort();
    const mqttPort = await freePort();
    proc = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/server.ts')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        JT808_HOST: '127.0.0.1',
        JT808_PORT: '0',
        MQTT_BROKER_HOST: '127.0.0.1',
        MQTT_BROKER_PORT: String(mqttPort),
        MQTT_BROKER_ALLOW_ANONYMOUS: 'true',
        DATA_DIR: dataDir,
        REGISTRY_SEED: FIXTURE_DEVICES,
        STORE_FLUSH_INTERVAL_MS: '60000',
        INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '100000',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 100, what: 'ready' });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'term-pub', reconnectPeriod: 0 });
    const t0 = Date.now() - 60_000;
    const n = 500;
    for (let i = 0; i < n; i++) await c.publishAsync('rg/v1/t1/gas/gas-1/telemetry', JSON.stringify({ ts: t0 + i, data: { concentration_lel: i % 20 } }), { qos: 1 });
    await c.endAsync();
    await waitFor(async () => /riskgate_readings_accepted_total\{kind="gas"\} 500\b/.test(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()), { timeoutMs: 10_000, intervalMs: 50, what: '500 readings accepted' });
    const exited = new Promise<number | null>((r) => proc?.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    // Exit code 0 also says the stop finished within SHUTDOWN_TIMEOUT_MS (15 s): past it the process exits 1.
    expect(await exited).toBe(0);
    const db = new Database(join(dataDir, 'readings.db'), { readonly: true });
    const count = (db.prepare("SELECT COUNT(*) AS c FROM points WHERE measurement = 'gas' AND device = 'gas-1'").get() as { c: number }).c;
    db.close();
    expect(count).toBe(n);
  }, 60_000);
});
