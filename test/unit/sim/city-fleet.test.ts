import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { getKind } from '../../../src/kinds/index.js';
import { KIND_NAMES } from '../../../src/kinds/kind.js';
import { validateData } from '../../../src/kinds/validate.js';
import { usccProblem } from '../../../src/registry/uscc.js';
import { emitCityFleet } from '../../../src/sim/city/emit.js';
import { DEFAULT_CITY_OPTIONS, generateCityFleet } from '../../../src/sim/city/generate.js';
import { orgCodeCheckChar, luhnDigit } from '../../../src/sim/city/ids.js';
import { loadSimFleet } from '../../../src/sim/fleet-file.js';
import { SimDevice } from '../../../src/sim/sim-device.js';
import { committedModels } from './helpers.js';

const CITY = 'devices/fleets/city.yaml';
const models = committedModels();
const t0 = performance.now();
const loaded = loadSimFleet(CITY, models);
const loadMs = performance.now() - t0;
if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems.slice(0, 5)));
const city = loaded;

describe('devices/fleets/city.yaml', () => {
  test('loads for simulation in well under 3 s', () => {
    expect(loadMs).toBeLessThan(3000);
  });

  test('has 20 000 devices of 500 enterprises, all simulated, every kind present', () => {
    expect(city.devices).toHaveLength(20_000);
    expect(city.tenants).toHaveLength(500);
    expect(city.profiles).toHaveLength(20_000);
    expect(city.unsimulated).toHaveLength(0);
    const perKind = new Map<string, number>();
    for (const d of city.devices) perKind.set(d.device.kind, (perKind.get(d.device.kind) ?? 0) + 1);
    for (const k of KIND_NAMES) expect(perKind.get(k), k).toBeGreaterThan(300);
    expect(perKind.get('vehicle')).toBeGreaterThan(800);
  });

  test('covers exactly three counties (GB/T 2260) and every device is in its enterprise’s county', () => {
    const regionOf = new Map(city.tenants.map((t) => [t.tenant, t.region]));
    expect(new Set(city.tenants.map((t) => t.region))).toEqual(new Set(['510104', '510107', '510116']));
    for (const d of city.devices) expect(d.device.region, d.device.deviceId).toBe(regionOf.get(d.device.tenant));
  });

  test('every enterprise has a unique name and a valid 统一社会信用代码 (GB 32100-2015, GB 11714 inside)', () => {
    expect(new Set(city.tenants.map((t) => t.name)).size).toBe(500);
    expect(new Set(city.tenants.map((t) => t.uscc)).size).toBe(500);
    for (const t of city.tenants) {
      expect(usccProblem(t.uscc), t.uscc).toBeUndefined();
      expect(t.uscc.slice(2, 8)).toBe(t.region);
      expect(orgCodeCheckChar(t.uscc.slice(8, 16))).toBe(t.uscc[16]);
    }
  });

  test('device ids are unique; NB-IoT devices carry IMEIs with a valid Luhn digit, vehicles 12-digit terminal numbers', () => {
    expect(new Set(city.devices.map((d) => `${d.device.tenant}/${d.device.deviceId}`)).size).toBe(20_000);
    expect(new Set(city.devices.map((d) => d.device.deviceId)).size).toBe(20_000);
    for (const d of city.devices) {
      if (d.device.model === 'RG-NB10' || d.device.model === 'RG-YG20-NB') expect(luhnDigit(d.device.deviceId.slice(0, 14))).toBe(d.device.deviceId[14]);
      if (d.device.kind === 'vehicle') {
        expect(d.device.deviceId).toMatch(/^0\d{11}$/);
        expect(['hazmat', 'coach']).toContain(d.device.attrs.vehicle_class);
      }
    }
  });

  test('each device is registered with its model’s heartbeat, and vehicles have a route', () => {
    for (const p of city.profiles) {
      expect(p.model, p.device.deviceId).toBeDefined();
      expect(p.device.heartbeatS).toBe(p.model?.heartbeat_s);
      if (p.device.kind === 'vehicle') expect(p.route?.length).toBeGreaterThanOrEqual(2);
    }
  });

  test('payloads of a 500-device sample are valid for their kinds at night, in the morning and in the evening', () => {
    const sample = city.profiles.filter((_, i) => i % 40 === 0);
    expect(sample.length).toBe(500);
    // Every model is in the sample.
    expect(new Set(sample.map((p) => p.model?.model)).size).toBe(models.size);
    const days = [Date.UTC(2025, 2, 14, 19, 0), Date.UTC(2025, 2, 15, 2, 0), Date.UTC(2025, 2, 15, 11, 30)]; // 03:00, 10:00, 19:30 Beijing
    sample.forEach((p, i) => {
      const d = new SimDevice(i, p, 1);
      for (const [n, at] of days.entries()) {
        const data = d.data(n * 3600, at);
        const r = validateData(getKind(p.device.kind), data, 'data');
        expect(r.ok ? [] : r.errors, `${p.device.deviceId} ${JSON.stringify(data)}`).toEqual([]);
      }
    });
  });

  test('is exactly what the generator writes (scripts/gen-city-fleet.ts), so it can be regenerated', () => {
    const text = emitCityFleet(generateCityFleet(models, DEFAULT_CITY_OPTIONS), DEFAULT_CITY_OPTIONS);
    expect(text === readFileSync(CITY, 'utf8')).toBe(true);
  });
});
