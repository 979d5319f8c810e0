import { describe, expect, test } from 'vitest';
import { buildTopic, INGEST_SUBSCRIPTION, parseTopic, TOPIC_ROOT, type DeviceTopic } from '../../../src/ingest/mqtt/topics.js';
import { KIND_NAMES } from '../../../src/kinds/kind.js';

/** MQTT topic-filter matching (MQTT 5.0 §4.7): `+` one level, `#` this level and all below. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

const VALID: { topic: string; parsed: DeviceTopic }[] = [
  { topic: 'rg/v1/acme/gas/GD-0001/telemetry', parsed: { tenant: 'acme', kind: 'gas', deviceId: 'GD-0001', channel: 'telemetry' } },
  { topic: 'rg/v1/t1/dust/dc.line-2/event', parsed: { tenant: 't1', kind: 'dust', deviceId: 'dc.line-2', channel: 'event' } },
  { topic: 'rg/v1/t_1/electrical_fire/EF:01:02/status', parsed: { tenant: 't_1', kind: 'electrical_fire', deviceId: 'EF:01:02', channel: 'status' } },
  { topic: 'rg/v1/T/smoke/866123456789012/telemetry', parsed: { tenant: 'T', kind: 'smoke', deviceId: '866123456789012', channel: 'telemetry' } },
  { topic: `rg/v1/${'a'.repeat(64)}/vehicle/${'9'.repeat(64)}/event`, parsed: { tenant: 'a'.repeat(64), kind: 'vehicle', deviceId: '9'.repeat(64), channel: 'event' } },
];

const INVALID: { name: string; topic: string; reason: RegExp }[] = [
  { name: 'another root', topic: 'rg/v2/acme/gas/d1/telemetry', reason: /^expected rg\/v1\/\{tenant\}\/\{kind\}\/\{deviceId\}\/\{channel\}, got "rg\/v2/ },
  { name: 'a missing level', topic: 'rg/v1/acme/gas/telemetry', reason: /^expected rg\/v1\// },
  { name: 'an extra level', topic: 'rg/v1/acme/gas/d1/telemetry/x', reason: /^expected rg\/v1\// },
  { name: 'a trailing slash', topic: 'rg/v1/acme/gas/d1/telemetry/', reason: /^expected rg\/v1\// },
  { name: 'a leading slash', topic: '/rg/v1/acme/gas/d1/telemetry', reason: /^expected rg\/v1\// },
  { name: 'an empty tenant', topic: 'rg/v1//gas/d1/telemetry', reason: /^tenant segment must be 1–64 characters/ },
  { name: 'a tenant of 65 characters', topic: `rg/v1/${'a'.repeat(65)}/gas/d1/telemetry`, reason: /^tenant segment/ },
  { name: 'a tenant with a space', topic: 'rg/v1/ac me/gas/d1/telemetry', reason: /^tenant segment/ },
  { name: 'a non-ASCII tenant', topic: 'rg/v1/北京/gas/d1/telemetry', reason: /^tenant segment/ },
  { name: 'an unknown kind', topic: 'rg/v1/acme/water/d1/telemetry', reason: /^unknown kind "water" \(expected gas, dust, electrical_fire, smoke or vehicle\)/ },
  { name: 'a kind in upper case', topic: 'rg/v1/acme/GAS/d1/telemetry', reason: /^unknown kind "GAS"/ },
  { name: 'an empty device id', topic: 'rg/v1/acme/gas//telemetry', reason: /^deviceId segment must be 1–64 characters/ },
  { name: 'a wildcard in the device id', topic: 'rg/v1/acme/gas/+/telemetry', reason: /^deviceId segment/ },
  { name: 'a device id of 65 characters', topic: `rg/v1/acme/gas/${'d'.repeat(65)}/telemetry`, reason: /^deviceId segment/ },
  { name: 'an unknown channel', topic: 'rg/v1/acme/gas/d1/command', reason: /^unknown channel "command" \(expected telemetry, event or status\)/ },
  { name: 'a channel in upper case', topic: 'rg/v1/acme/gas/d1/Telemetry', reason: /^unknown channel "Telemetry"/ },
];

describe('ingest/mqtt/topics', () => {
  test.each(VALID)('parses $topic', ({ topic, parsed }) => {
    expect(parseTopic(topic)).toEqual({ ok: true, topic: parsed });
  });

  test.each(INVALID)('rejects $name with a reason', ({ topic, reason }) => {
    const res = parseTopic(topic);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toMatch(reason);
  });

  test.each(VALID)('buildTopic gives back $topic', ({ topic, parsed }) => {
    expect(buildTopic(parsed)).toBe(topic);
  });

  test('a reason quotes at most 200 characters of a long topic', () => {
    const res = parseTopic(`x/${'y'.repeat(10_000)}`);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason.length).toBeLessThan(300);
  });

  test('a reason quotes at most 64 characters of a long kind or channel', () => {
    for (const [topic, long] of [
      [`rg/v1/acme/${'k'.repeat(500)}/d1/telemetry`, 'k'],
      [`rg/v1/acme/gas/d1/${'c'.repeat(500)}`, 'c'],
    ] as const) {
      const res = parseTopic(topic);
      expect(res.ok).toBe(false);
      if (!res.ok) expect(res.reason).toContain(`"${long.repeat(64)}"`);
    }
  });

  test('the ingest subscription covers every topic of every kind and channel', () => {
    for (const kind of KIND_NAMES) {
      for (const channel of ['telemetry', 'event', 'status'] as const) {
        expect(matches(INGEST_SUBSCRIPTION, buildTopic({ tenant: 'acme', kind, deviceId: 'd1', channel }))).toBe(true);
      }
    }
    expect(INGEST_SUBSCRIPTION.startsWith(`${TOPIC_ROOT}/`)).toBe(true);
  });
});
