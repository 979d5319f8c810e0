import { describe, expect, test } from 'vitest';
import { parseTopic, type TopicResult } from '../../../src/ingest/mqtt/topics.js';
import { isKindName } from '../../../src/kinds/kind.js';
import { mulberry32 } from '../../../src/lib/prng.js';

/** The parser as it was before issue 9 (split into levels, then checked): the reference for the scanning one. */
function splitParse(topic: string): TopicResult {
  const SEGMENT = /^[A-Za-z0-9_.:-]{1,64}$/;
  const parts = topic.split('/');
  if (parts.length !== 6 || parts[0] !== 'rg' || parts[1] !== 'v1') {
    return { ok: false, reason: `expected rg/v1/{tenant}/{kind}/{deviceId}/{channel}, got ${JSON.stringify(topic.slice(0, 200))}` };
  }
  const [, , tenant, kind, deviceId, channel] = parts as [string, string, string, string, string, string];
  if (!SEGMENT.test(tenant)) return { ok: false, reason: 'tenant segment must be 1–64 characters of A–Z a–z 0–9 _ . : -' };
  if (!isKindName(kind)) return { ok: false, reason: `unknown kind "${kind.slice(0, 64)}" (expected gas, dust, electrical_fire, smoke or vehicle)` };
  if (!SEGMENT.test(deviceId)) return { ok: false, reason: 'deviceId segment must be 1–64 characters of A–Z a–z 0–9 _ . : -' };
  if (!['telemetry', 'event', 'status'].includes(channel)) return { ok: false, reason: `unknown channel "${channel.slice(0, 64)}" (expected telemetry, event or status)` };
  return { ok: true, topic: { tenant, kind, deviceId, channel: channel as 'telemetry' } };
}

describe('ingest/mqtt/topics parser (issue 9: scanning instead of splitting)', () => {
  test('decides 20 000 generated topics exactly as splitting them did, reasons included', () => {
    const rand = mulberry32(2024);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const levels = ['rg', 'v1', 'v2', '', 'acme', 'gas', 'smoke', 'vehicle', 'GAS', 'water', 'd-1', 'GD:01', 'a'.repeat(64), 'a'.repeat(65), '北京', 'a b', '+', '#', 'telemetry', 'event', 'status', 'command'];
    for (let i = 0; i < 20_000; i++) {
      const good = ['rg', 'v1', pick(['acme', 't_1', '']), pick(['gas', 'dust', 'water']), pick(['d-1', 'GD:01', '+']), pick(['telemetry', 'status', 'x'])];
      const n = pick([4, 5, 6, 6, 6, 7]);
      const parts = rand() < 0.6 ? good.slice(0, n) : Array.from({ length: n }, () => pick(levels));
      if (rand() < 0.05) parts.push('');
      const topic = (rand() < 0.03 ? '/' : '') + parts.join('/');
      expect({ topic, r: parseTopic(topic) }).toEqual({ topic, r: splitParse(topic) });
    }
  });
});
