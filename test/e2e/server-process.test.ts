import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { REPO_ROOT } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/services.js';

const SERVER = ['--import', 'tsx', join(REPO_ROOT, 'src/server.ts')];

function runOnce(env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, SERVER, { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('server process', () => {
  test('every invalid setting is reported by name and reason, and the process exits 1', () => {
    const r = runOnce({ HTTP_PORT: 'abc', INFLUX_URL: 'http://127.0.0.1:9', INFLUX_API: 'v3', LOG_LEVEL: 'loud' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('RG_ERR_CONFIG_INVALID');
    expect(r.stderr).toMatch(/HTTP_PORT: must be an integer \(got "abc"\)/);
    expect(r.stderr).toMatch(/INFLUX_API: must be v1 or v2 \(got "v3"\)/);
    expect(r.stderr).toMatch(/LOG_LEVEL: must be one of/);
  });

  test('a bad rule file stops the start with file:line and the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-rules-'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules/gas.yaml'), 'kind: gas\nrules:\n  - id: gas.x\n    type: threshold\n    title: t\n    standard: s\n    field: concentration_lel\n    levels:\n      - { level: 7, value: 1 }\n');
    const r = runOnce({ RULES_DIR: join(dir, 'rules'), DATA_DIR: join(dir, 'data'), HTTP_PORT: '0', MQTT_BROKER_PORT: '0', LOG_LEVEL: 'silent' });
    rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/gas\.yaml:9:\d+ rules\[0\]\.levels\[0\]\.level: must be 1 \(红\), 2 \(橙\), 3 \(黄\) or 4 \(蓝\)/);
  });
});

describe('demo gateway (the run command\'s defaults)', () => {
  let proc: ChildProcess | undefined;
  let dataDir: string;
  let httpPort: number;
  let mqttPort: number;
  let logs = '';
  let token = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rg-demo-'));
    httpPort = await freePort();
    mqttPort = await freePort();
    proc = spawn(process.execPath, SERVER, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), MQTT_BROKER_HOST: '127.0.0.1', MQTT_BROKER_PORT: String(mqttPort), JT808_HOST: '127.0.0.1', JT808_PORT: '0', DATA_DIR: dataDir, SIM_FLEET: 'devices/fleets/demo.yaml' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 200, what: 'the demo gateway to be ready' });
    await waitFor(() => /rgt_[A-Za-z0-9_-]{40,}/.test(logs), { timeoutMs: 5000, intervalMs: 50, what: 'the bootstrap admin token on stdout' });
    token = (/rgt_[A-Za-z0-9_-]{40,}/.exec(logs) as RegExpExecArray)[0];
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc?.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the simulated fleet is stored and a gas alert arrives on the WebSocket within 60 s', async () => {
    const events: { type: string; alert: { rule_id: string; device_id: string } }[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/v1/stream?since=0`, { headers: { authorization: `Bearer ${token}` } });
    ws.on('message', (d: Buffer) => {
      const msg = JSON.parse(d.toString()) as { type: string; event?: (typeof events)[number] };
      if (msg.event) events.push(msg.event);
    });
    await waitFor(() => events.some((e) => e.type === 'raised' && e.alert.rule_id === 'gas.lel' && e.alert.device_id === 'gas-kitchen-01'), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the demo gas alert on the stream',
    });
    ws.close();
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    for (const kind of ['gas', 'dust', 'electrical_fire', 'smoke', 'vehicle']) {
      expect(metrics).toMatch(new RegExp(`riskgate_readings_accepted_total\\{kind="${kind}"\\} [1-9]`));
    }
    expect(metrics).toMatch(/riskgate_points_written_total\{backend="sqlite"\} [1-9]/);
    expect(logs).toContain('alert raised');
  }, 90_000);

  test('the README\'s mosquitto_pub line raises an alert on the running demo', async () => {
    const dev = 'jinjiang-homes/efm-board-02';
    const payload = JSON.stringify({ ts: Date.now(), data: { residual_current_ma: 420, temp_c: [41.5] } });
    const pub = (args: string[]) => spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort), '-q', '1', '-i', dev, '-t', 'rg/v1/jinjiang-homes/electrical_fire/efm-board-02/telemetry', '-m', payload, ...args], { encoding: 'utf8', timeout: 10_000 });
    // Without a credential the broker refuses the connection (deny by default).
    expect(pub([]).status).not.toBe(0);
    const cred = await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/devices/${dev}/credentials`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json() as { password: string };
    expect(pub(['-u', dev, '-P', 'wrong-password']).status).not.toBe(0);
    const r = pub(['-u', dev, '-P', cred.password]);
    expect(r.status, r.stderr).toBe(0);
    await waitFor(async () => {
      const res = (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/alerts?device_id=efm-board-02&open=true`, { headers: { authorization: `Bearer ${token}` } })).json()) as { alerts: { rule_id: string; peak_value: number }[] };
      return res.alerts.some((a) => a.rule_id === 'electrical_fire.residual_current' && a.peak_value >= 420);
    }, { timeoutMs: 10_000, intervalMs: 100, what: 'the residual-current alert' });
  });

  test('the API refuses requests without a token, and the bootstrap token is printed once', async () => {
    expect((await fetch(`http://127.0.0.1:${httpPort}/api/v1/alerts`)).status).toBe(401);
    expect((logs.match(/rgt_[A-Za-z0-9_-]{40,}/g) ?? []).every((t) => t === token)).toBe(true);
  });

  test('riskgate token create/revoke work against the running gateway at once', async () => {
    const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    const created = cli(['token', 'create', '--role', 'operator', '--name', 'duty-op', '--regions', '510104', '--data-dir', dataDir]);
    expect(created.status, created.stderr).toBe(0);
    const opToken = (/rgt_[A-Za-z0-9_-]{40,}/.exec(created.stdout) as RegExpExecArray)[0];
    const id = (/tok_[0-9a-f]{12}/.exec(created.stdout) as RegExpExecArray)[0];
    const alerts = async () => fetch(`http://127.0.0.1:${httpPort}/api/v1/alerts`, { headers: { authorization: `Bearer ${opToken}` } });
    const seen = (await (await alerts()).json()) as { alerts: { region: string }[] };
    expect(seen.alerts.every((a) => a.region.startsWith('510104'))).toBe(true);
    expect(cli(['token', 'revoke', id, '--data-dir', dataDir]).status).toBe(0);
    expect((await alerts()).status).toBe(401);
  });

  test('SIGTERM stops the gateway with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => proc?.once('exit', (code) => r(code)));
    proc?.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logs).toContain('gateway stopped');
  });
});
