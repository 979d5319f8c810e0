import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { simulateCommand } from '../../src/cli/simulate-command.js';
import { KIND_NAMES } from '../../src/kinds/kind.js';
import { loadSimFleet } from '../../src/sim/fleet-file.js';
import { loadModels } from '../../src/sim/models.js';
import { metricValue, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';

/**
 * A slice of the city fleet — the first four devices of every model, each reporting every 0.5 s — registered in a real
 * gateway with broker authentication on, then driven by `riskgate simulate` with one login per device from the
 * gateway's credential API.
 */
function citySlice(dir: string): { file: string; devices: { tenant: string; deviceId: string }[] } {
  const models = loadModels('devices/models');
  if (!models.ok) throw new Error('models do not load');
  const city = loadSimFleet('devices/fleets/city.yaml', models.models);
  if (!city.ok) throw new Error('city fleet does not load');
  const perModel = new Map<string, number>();
  const picked = city.devices.filter((fd) => {
    const n = perModel.get(fd.device.model as string) ?? 0;
    perModel.set(fd.device.model as string, n + 1);
    return n < 4;
  });
  const tenants = new Set(picked.map((fd) => fd.device.tenant));
  const doc = {
    name: 'city-slice',
    tenants: city.tenants.filter((t) => tenants.has(t.tenant)),
    devices: picked.map(({ device: d, sim }) => ({
      tenant: d.tenant,
      device_id: d.deviceId,
      kind: d.kind,
      model: d.model,
      region: d.region,
      site: d.site,
      heartbeat_s: d.heartbeatS,
      attrs: d.attrs,
      sim: { ...(sim as object | undefined), interval_s: 0.5 },
    })),
  };
  const file = join(dir, 'city-slice.yaml');
  // JSON is YAML: the gateway's REGISTRY_SEED and the simulator read the same file.
  writeFileSync(file, JSON.stringify(doc, null, 1));
  return { file, devices: picked.map((fd) => ({ tenant: fd.device.tenant, deviceId: fd.device.deviceId })) };
}

describe('riskgate simulate against a gateway', () => {
  let dir: string;
  let gw: TestGateway;
  let slice: ReturnType<typeof citySlice>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-simulate-'));
    slice = citySlice(dir);
    gw = await startTestGateway({ REGISTRY_SEED: slice.file, MQTT_BROKER_ALLOW_ANONYMOUS: 'false' });
  });

  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every kind’s readings are accepted with zero rejects, each device on its own login', async () => {
    expect(slice.devices.length).toBeGreaterThanOrEqual(30);
    const lines: string[] = [];
    for (const d of slice.devices) {
      const res = await gw.api('POST', `/api/v1/devices/${d.tenant}/${d.deviceId}/credentials`);
      expect(res.status).toBe(201);
      lines.push(JSON.stringify(res.json));
    }
    const creds = join(dir, 'credentials.ndjson');
    writeFileSync(creds, `${lines.join('\n')}\n`);

    let err = '';
    const code = await simulateCommand(['--fleet', slice.file, '--broker', gw.mqttUrl, '--credentials-file', creds, '--duration', '4s', '--seed', '3'], {
      stdout: () => undefined,
      stderr: (s) => (err += s),
    });
    expect(err).toMatch(/done: \d+ sent, 0 errors, 0 failed connections/);
    expect(code).toBe(0);
    const sent = Number(/done: (\d+) sent/.exec(err)?.[1]);
    // ~36 devices × 2 msg/s × 4 s, first readings spread over the first interval.
    expect(sent).toBeGreaterThan(150);

    const accepted = async (): Promise<number> => {
      let n = 0;
      for (const kind of KIND_NAMES) n += await metricValue(gw.httpUrl, 'riskgate_readings_accepted_total', { kind });
      return n;
    };
    await waitFor(async () => (await accepted()) === sent, { timeoutMs: 15_000, intervalMs: 100, what: `all ${sent} readings accepted` });
    for (const kind of KIND_NAMES) expect(await metricValue(gw.httpUrl, 'riskgate_readings_accepted_total', { kind }), kind).toBeGreaterThan(0);
    expect(await metricValue(gw.httpUrl, 'riskgate_readings_rejected_total')).toBe(0);
  }, 60_000);
});
