import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, test } from 'vitest';
import { jt808LoadCommand } from '../../../src/cli/jt808-load-command.js';
import { Jt808Server, MemoryAuthCodeStore, TerminalIndex } from '../../../src/ingest/jt808/index.js';
import { systemClock } from '../../../src/lib/clock.js';
import { formatJt808LoadResult, jt808LoadDeviceId, jt808LoadSeedYaml, runJt808Load } from '../../../src/loadtest/jt808-load.js';
import type { Device } from '../../../src/registry/device-registry.js';
import { loadDeviceFile } from '../../../src/registry/seed.js';

let server: Jt808Server | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function seedDevices(terminals: number, firstIndex = 0): Device[] {
  const dir = mkdtempSync(join(tmpdir(), 'rg-jt808-load-'));
  dirs.push(dir);
  const file = join(dir, 'seed.yaml');
  writeFileSync(file, jt808LoadSeedYaml({ terminals, firstIndex }));
  const res = loadDeviceFile(file);
  if (!res.ok) throw new Error(JSON.stringify(res.problems));
  return res.devices.map((d) => d.device);
}

test('the seed file registers one vehicle per load terminal, device id = its phone', () => {
  const devices = seedDevices(3, 10);
  expect(devices.map((d) => d.deviceId)).toEqual([10, 11, 12].map((i) => jt808LoadDeviceId(i)));
  expect(devices[0]).toMatchObject({ tenant: 'jt808-load', kind: 'vehicle', deviceId: '014000000010' });
});

test('runJt808Load: every terminal logs in and every location sent is acknowledged', async () => {
  const devices = seedDevices(8);
  const index = new TerminalIndex({ list: () => devices, get: (t, id) => devices.find((d) => d.tenant === t && d.deviceId === id), size: devices.length }, () => Date.now());
  let received = 0;
  server = new Jt808Server({
    findTerminal: (q) => index.find(q),
    authCodes: new MemoryAuthCodeStore(),
    onLocation: () => void received++,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    options: { host: '127.0.0.1', port: 0, stopGraceMs: 100 },
  });
  await server.start();
  const r = await runJt808Load({ host: '127.0.0.1', port: server.port, terminals: 8, intervalMs: 250, durationMs: 1000, drainMs: 2000 });
  expect(r).toMatchObject({ terminals: 8, connected: 8, authenticated: 8, errors: 0, timeouts: 0, disconnected: 0 });
  expect(r.locationsSent).toBeGreaterThanOrEqual(8 * 3);
  expect(r.locationsAcked).toBe(r.locationsSent);
  expect(received).toBe(r.locationsSent);
  // register + authenticate + every location answered
  expect(r.repliesReceived).toBe(8 * 2 + r.locationsSent);
  expect(formatJt808LoadResult(r)).toMatch(/^locations acked\s+\d+$/m);
});

test('the CLI counts terminals the gateway does not know as login errors and exits 1', async () => {
  server = new Jt808Server({
    findTerminal: () => undefined,
    authCodes: new MemoryAuthCodeStore(),
    onLocation: () => undefined,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    options: { host: '127.0.0.1', port: 0, stopGraceMs: 100 },
  });
  await server.start();
  let out = '';
  const code = await jt808LoadCommand(['--port', String(server.port), '--terminals', '2', '--interval', '200ms', '--duration', '300ms'], { stdout: (s) => (out += s), stderr: () => undefined });
  expect(code).toBe(1);
  expect(out).toMatch(/^login errors\s+2$/m);
  await expect(jt808LoadCommand(['--interval', 'soon'], { stdout: () => undefined, stderr: () => undefined })).rejects.toThrow(/--interval must be a duration/);
});
