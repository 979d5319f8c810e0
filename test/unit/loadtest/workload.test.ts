import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readCapture, type Capture } from '../../../src/capture/capture-format.js';
import { mergeBySendTime, type PlannedMessage } from '../../../src/loadtest/planned-message.js';
import { capturePlan, payloadReadingTs, scenarioPlan, scenarioSpeedFor } from '../../../src/loadtest/workload.js';
import { loadScenarioFile, scenarioMessages, type Scenario } from '../../../src/sim/scenario/index.js';
import { REPO_ROOT } from '../../helpers/gateway.js';

const NOW = Date.parse('2026-05-01T10:00:00Z');
const HEADER = { format: 'riskgate-capture/1' as const, source: 'test', licence: 'MIT', attribution: '', devices: [], created_by: 'test' };

function capture(): Capture {
  return {
    header: HEADER,
    messages: [
      { t: 0, topic: 'rg/v1/t1/gas/gas-1/telemetry', payload: { ts: '2020-01-01 08:00:00', data: { concentration_lel: 1 } } },
      { t: 60_000, topic: 'rg/v1/t1/gas/gas-2/telemetry', payload: { readings: [{ ts: 1577836830000, data: { concentration_lel: 2 } }, { ts: 1577836860000, data: { concentration_lel: 3 } }] } },
      { t: 120_000, topic: 'rg/v1/t1/gas/gas-1/telemetry', payload: { ts: 1577836920000, data: { concentration_lel: 4 } } },
      { t: 120_000, topic: 'not/a/device/topic', payload_text: 'hello' },
    ],
  };
}

function scenario(name: string): Scenario {
  const res = loadScenarioFile(join(REPO_ROOT, 'devices/scenarios', `${name}.yaml`));
  if (!res.ok) throw new Error(JSON.stringify(res.problems));
  return res.value;
}

describe('workload', () => {
  test('the device times of a wire payload are read from ts or readings[].ts, in any wire format', () => {
    expect(payloadReadingTs({ ts: '2020-01-01 08:00:00', data: {} })).toEqual([Date.parse('2020-01-01T00:00:00Z')]);
    expect(payloadReadingTs({ readings: [{ ts: 5 }, { ts: 'garbage' }, { ts: '2020-01-01T00:00:00Z' }] })).toEqual([5, 1577836800000]);
    expect(payloadReadingTs('text')).toEqual([]);
  });

  test('a capture at 10× keeps its spacing divided by 10, and its latest reading lands when its message is due', () => {
    const plan = capturePlan(capture(), NOW, { speed: 10 });
    expect(plan.map((m) => m.sendAtMs - NOW)).toEqual([0, 6_000, 12_000, 12_000]);
    // The latest device time (2020-01-01T00:02:00Z) lands at the last message's due time; spacing as recorded.
    expect(plan[2]?.readingTs).toEqual([NOW + 12_000]);
    expect(plan[1]?.readingTs).toEqual([NOW + 12_000 - 90_000, NOW + 12_000 - 60_000]);
    expect(plan[0]?.readingTs).toEqual([NOW + 12_000 - 120_000]);
    expect(JSON.parse(plan[0]?.payload as string)).toEqual({ ts: NOW + 12_000 - 120_000, data: { concentration_lel: 1 } });
    expect(plan[1]).toMatchObject({ tenant: 't1', deviceId: 'gas-2', track: true });
  });

  test('a message that is not a device message is sent as recorded and not tracked', () => {
    const plan = capturePlan(capture(), NOW, { speed: Infinity });
    expect(plan[3]).toMatchObject({ sendAtMs: NOW, topic: 'not/a/device/topic', track: false, readingTs: [] });
    expect(Buffer.from(plan[3]?.payload as Buffer).toString()).toBe('hello');
    expect(plan[2]?.readingTs).toEqual([NOW]); // at max speed the whole capture ends now
  });

  test('a capture at a fixed rate is evenly spaced whatever its recorded timing', () => {
    const plan = capturePlan(capture(), NOW, { ratePerS: 4 });
    expect(plan.map((m) => m.sendAtMs - NOW)).toEqual([0, 250, 500, 750]);
  });

  test('a committed capture replays with every reading in the past or due now', () => {
    const c = readCapture(join(REPO_ROOT, 'devices/captures/fsri-gasburner-4.jsonl.gz'));
    const plan = capturePlan(c, NOW, { ratePerS: 1000 });
    expect(plan).toHaveLength(c.messages.length);
    for (const m of plan) for (const ts of m.readingTs) expect(ts).toBeLessThanOrEqual(Math.ceil(plan[plan.length - 1]?.sendAtMs as number));
  });

  test('a scenario compressed to 10 s is due within 10 s, its device times spaced as written and ending when sent', () => {
    const s = scenario('gas-leak-kitchen');
    const speed = scenarioSpeedFor(s, 10_000);
    const plan = scenarioPlan(s, NOW, speed);
    const last = plan[plan.length - 1] as PlannedMessage;
    expect(last.sendAtMs - NOW).toBeCloseTo(10_000, 6);
    expect(Math.abs((last.readingTs[0] as number) - last.sendAtMs)).toBeLessThan(1);
    // Readings every 10 s of device time, as the scenario writes them.
    expect((plan[1]?.readingTs[0] as number) - (plan[0]?.readingTs[0] as number)).toBe(10_000);
    expect(new Set(plan.map((m) => m.deviceId))).toEqual(new Set(['gas-kitchen-01']));
  });

  test('a scenario that keeps its time of day is moved by whole days only', () => {
    const s = scenario('hazmat-night-ban');
    const plan = scenarioPlan(s, NOW, 1000);
    const original = scenarioMessages(s);
    const shift = (plan[0]?.readingTs[0] as number) - (original[0]?.readingTs[0] as number);
    expect(shift % 86_400_000).toBe(0);
    expect(shift).toBeGreaterThan(0);
    plan.forEach((m, i) => expect(m.readingTs).toEqual(original[i]?.readingTs.map((ts) => ts + shift)));
    for (const m of plan) for (const ts of m.readingTs) expect(ts).toBeLessThanOrEqual(m.sendAtMs);
  });

  test('streams are merged in due order, the earlier stream first on a tie', () => {
    const msg = (sendAtMs: number, deviceId: string): PlannedMessage => ({ sendAtMs, topic: '', payload: '', tenant: 't', deviceId, readingTs: [], track: false });
    const merged = [...mergeBySendTime([msg(0, 'a'), msg(20, 'a'), msg(30, 'a')], [msg(10, 'b'), msg(20, 'b')], [])];
    expect(merged.map((m) => `${m.sendAtMs}${m.deviceId}`)).toEqual(['0a', '10b', '20a', '20b', '30a']);
  });
});
