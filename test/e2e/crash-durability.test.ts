import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURE_DEVICES, REPO_ROOT } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/services.js';

const SERVER = ['--import', 'tsx', join(REPO_ROOT, 'src/server.ts')];

/**
 * Issue 5 item 6: alerts, acknowledgements and rule state survive `kill -9` (SQLite WAL, synchronous=NORMAL: a
 * process crash loses no committed transaction; rule state is written every 2 s, so it loses at most that much).
 */
describe('crash durability', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rg-crash-'));
  let proc: ChildProcess | undefined;
  let logs = '';
  let httpPort = 0;
  let mqttPort = 0;

  async function start(): Promise<void> {
    httpPort = await freePort();
    mqttPort = await freePort();
    logs = '';
    proc = spawn(process.execPath, SERVER, {
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
        RULES_DIR: join(REPO_ROOT, 'test/fixtures/rules-durability'),
        REGISTRY_SEED: FIXTURE_DEVICES,
        STORE_FLUSH_INTERVAL_MS: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 100, what: 'the gateway to be ready' });
  }

  async function publish(data: Record<string, number>, ts: number): Promise<void> {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: `crash-pub-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 0 });
    await c.publishAsync('rg/v1/t1/gas/gas-1/telemetry', JSON.stringify({ ts, data }), { qos: 1 });
    await c.endAsync();
  }

  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('after kill -9 the acknowledged alert and a half-elapsed for duration are still there', async () => {
    await start();
    // The bootstrap token is printed right after the start completes, which may be just after /readyz turns 200.
    await waitFor(() => /rgt_[A-Za-z0-9_-]{40,}/.test(logs), { timeoutMs: 10_000, intervalMs: 50, what: 'the bootstrap token on stdout' });
    const token = (/rgt_[A-Za-z0-9_-]{40,}/.exec(logs) ?? [''])[0];
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${httpPort}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const t = Date.now();
    await publish({ concentration_lel: 60 }, t - 70_000);
    await publish({ concentration_ppm: 30 }, t - 70_000);
    let id = 0;
    await waitFor(async () => {
      const j = (await (await api('GET', '/api/v1/alerts?device_id=gas-1')).json()) as { alerts: { id: number; rule_id: string }[] };
      id = j.alerts.find((a) => a.rule_id === 'lel.now')?.id ?? 0;
      return id > 0;
    }, { timeoutMs: 10_000, intervalMs: 100, what: 'the alert' });
    expect((await api('POST', `/api/v1/alerts/${id}/ack`, { note: '已派人核查' })).status).toBe(200);
    // Wait until the pending `for` of co.for is in the persisted rule state, then crash.
    await waitFor(() => {
      const db = new Database(join(dataDir, 'riskgate.db'), { readonly: true });
      try {
        const row = db.prepare("SELECT state FROM rule_state WHERE rule_id = 'co.for'").get() as { state: string } | undefined;
        return row !== undefined && (JSON.parse(row.state) as { pendingSince?: number }).pendingSince === t - 70_000;
      } finally {
        db.close();
      }
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'the pending for duration persisted' });
    const exited = new Promise((r) => proc?.once('exit', r));
    proc?.kill('SIGKILL');
    await exited;

    await start();
    await waitFor(() => /riskgate is running/.test(logs), { timeoutMs: 10_000, intervalMs: 50, what: 'the start to complete' });
    expect(logs).not.toMatch(/rgt_[A-Za-z0-9_-]{40,}/); // an admin token exists: no second bootstrap token
    const created = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'token', 'create', '--role', 'admin', '--name', 'after-crash', '--data-dir', dataDir], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    const token2 = (/rgt_[A-Za-z0-9_-]{40,}/.exec(created.stdout) ?? [''])[0];
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${token2}` } })).json() as Promise<Record<string, unknown>>;
    const detail = (await get(`/api/v1/alerts/${id}`)) as { alert: { handling: string; acknowledged_by: string }; events: { type: string; note: string | null }[] };
    expect(detail.alert).toMatchObject({ handling: 'acknowledged', acknowledged_by: 'bootstrap-admin' });
    expect(detail.events.map((e) => e.type)).toEqual(['raised', 'acknowledged']);
    // The CO condition has held since t − 70 s: one more reading fires it at once (a fresh state would wait 60 s more).
    await publish({ concentration_ppm: 31 }, t - 5_000);
    await waitFor(async () => {
      const j = (await get('/api/v1/alerts?device_id=gas-1')) as { alerts: { rule_id: string }[] };
      return j.alerts.some((a) => a.rule_id === 'co.for');
    }, { timeoutMs: 10_000, intervalMs: 100, what: 'the co.for alert after the crash' });
  }, 90_000);
});
