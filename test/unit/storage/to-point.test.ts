import { describe, expect, test } from 'vitest';
import type { Reading } from '../../../src/pipeline/reading.js';
import { readingToPoint } from '../../../src/storage/to-point.js';

function reading(overrides: Partial<Reading> = {}): Reading {
  return {
    tenant: 'acme-chem',
    deviceId: 'gas-0007',
    kind: 'gas',
    channel: 'telemetry',
    ts: Date.UTC(2025, 2, 15, 6, 0, 0, 123),
    receivedAt: Date.UTC(2025, 2, 15, 6, 0, 0, 456),
    seq: 42,
    fields: { concentration_lel: 12.5, alarm: true, fault_code: 3 },
    tags: { region: 'sh-pudong', site: 'plant-2', gas_type: 'methane' },
    ...overrides,
  };
}

describe('storage/to-point', () => {
  test('measurement is the kind, time is the device time, fields are the reading fields', () => {
    const r = reading();
    const p = readingToPoint(r);
    expect(p.measurement).toBe('gas');
    expect(p.timeMs).toBe(r.ts);
    expect(p.fields).toEqual({ concentration_lel: 12.5, alarm: true, fault_code: 3 });
  });

  test('tags hold tenant, device and every tag of the reading', () => {
    expect(readingToPoint(reading()).tags).toEqual({
      tenant: 'acme-chem',
      device: 'gas-0007',
      region: 'sh-pudong',
      site: 'plant-2',
      gas_type: 'methane',
    });
  });

  test('a reading tag named tenant or device cannot change the series identity', () => {
    const p = readingToPoint(reading({ tags: { device: 'spoofed', tenant: 'other' } }));
    expect(p.tags).toEqual({ tenant: 'acme-chem', device: 'gas-0007' });
  });

  test('the reading itself is left untouched', () => {
    const r = reading();
    const before = structuredClone(r);
    readingToPoint(r);
    expect(r).toEqual(before);
  });
});
