import { describe, expect, test } from 'vitest';
import { parseEnvelope } from '../../../src/kinds/envelope.js';
import { getKind } from '../../../src/kinds/index.js';
import { validateData } from '../../../src/kinds/validate.js';
import { CLEAR_LEL, SyntheticFleet, THRESHOLD_LEL } from '../../../src/loadtest/synthetic-fleet.js';

const NOW = Date.parse('2026-05-01T10:00:00Z');

describe('synthetic-fleet', () => {
  test('readings are about 200 bytes, round-robin over the devices, device time = due time', () => {
    const f = new SyntheticFleet({ devices: 3, alertEvery: 0 });
    const msgs = [...f.messages(NOW, 100, 60)];
    expect(msgs.map((m) => m.deviceId)).toEqual(['lt-gas-0000', 'lt-gas-0001', 'lt-gas-0002', 'lt-gas-0000', 'lt-gas-0001', 'lt-gas-0002']);
    expect(msgs.map((m) => m.sendAtMs - NOW)).toEqual([0, 10, 20, 30, 40, 50]);
    for (const m of msgs) {
      const bytes = Buffer.byteLength(m.payload as string);
      expect(bytes).toBeGreaterThanOrEqual(180);
      expect(bytes).toBeLessThanOrEqual(230);
      expect(JSON.parse(m.payload as string).ts).toBe(m.readingTs[0]);
      expect(m.topic).toBe(`rg/v1/loadtest/gas/${m.deviceId}/telemetry`);
      expect(m.track).toBe(false);
    }
  });

  test('every payload passes the gas kind’s validation', () => {
    const f = new SyntheticFleet({ devices: 7, alertEvery: 5 });
    for (const m of f.messages(NOW, 1000, 200)) {
      const env = parseEnvelope(JSON.parse(m.payload as string));
      expect(env.ok).toBe(true);
      if (!env.ok) continue;
      for (const e of env.entries) expect(validateData(getKind('gas'), e.data, 'data')).toMatchObject({ ok: true });
    }
  });

  test('one reading in alertEvery crosses the threshold and the next clears it, staggered over the devices', () => {
    const f = new SyntheticFleet({ devices: 4, alertEvery: 5 });
    const msgs = [...f.messages(NOW, 1000, 40)]; // 10 readings per device
    const lel = (m: { payload: string | Buffer }): number => JSON.parse(m.payload as string).data.concentration_lel as number;
    for (const [d, id] of f.deviceIds.entries()) {
      const mine = msgs.filter((m) => m.deviceId === id);
      const over = mine.flatMap((m, i) => (lel(m) >= THRESHOLD_LEL ? [i] : []));
      // Device d crosses at its readings i with (i + d) mod 5 = 0: staggered, so alerts do not come in bursts.
      expect(over).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((i) => (i + d) % 5 === 0));
      for (const i of over) if (i + 1 < mine.length) expect(lel(mine[i + 1] as { payload: string })).toBeLessThan(CLEAR_LEL);
      // Only the crossing and the clearing reading are tracked for latency.
      expect(mine.filter((m) => m.track).length).toBeLessThanOrEqual(over.length * 2);
    }
    const crossings = msgs.filter((m) => lel(m) >= THRESHOLD_LEL).length;
    expect(f.expected.filter((x) => x.events.includes('raised'))).toHaveLength(crossings);
    expect(f.expected.every((x) => x.rule === 'gas.lel' && x.level === 3)).toBe(true);
  });

  test('the expected events of a device alternate: raised or reactivated, then cleared', () => {
    const f = new SyntheticFleet({ devices: 1, alertEvery: 3 });
    expect([...f.messages(NOW, 1000, 8)]).toHaveLength(8);
    expect(f.expected.map((x) => x.events.join('|'))).toEqual(['raised|reactivated', 'cleared', 'raised|reactivated', 'cleared', 'raised|reactivated', 'cleared']);
  });

  test('the seed lists every device under the fleet’s tenant', () => {
    const f = new SyntheticFleet({ devices: 12, tenant: 'lt', idPrefix: 'd-' });
    expect(f.seedDevices()).toHaveLength(12);
    expect(f.seedDevices()[11]).toMatchObject({ tenant: 'lt', device_id: 'd-0011', kind: 'gas', region: '510104' });
  });

  test('a nonsensical size or alert interval is refused', () => {
    expect(() => new SyntheticFleet({ devices: 0 })).toThrow(RangeError);
    expect(() => new SyntheticFleet({ alertEvery: 1 })).toThrow(RangeError);
  });
});
