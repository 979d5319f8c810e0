import { describe, expect, test } from 'vitest';
import { buildDownlinkTopic, downlinkFilter, INGEST_SUBSCRIPTION, parseDownlinkTopic } from '../../../src/ingest/mqtt/topics.js';
import { authorizePublish, authorizeRead, authorizeSubscribe, type BrokerIdentity } from '../../../src/broker/authorizer.js';

const DEVICE: BrokerIdentity = { role: 'device', tenant: 'acme', deviceId: 'GD-0001', kind: 'gas' };
const INGEST: BrokerIdentity = { role: 'ingest' };

interface Case {
  name: string;
  identity: BrokerIdentity;
  topic: string;
  ok: boolean;
  reason?: RegExp;
}

const PUBLISH: Case[] = [
  { name: 'a device on its own telemetry topic', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/telemetry', ok: true },
  { name: 'a device on its own event topic', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/event', ok: true },
  { name: 'a device on its own status topic', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/status', ok: true },
  { name: 'a device on another device of its tenant', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0002/telemetry', ok: false, reason: /publishes only under rg\/v1\/acme\/gas\/GD-0001\// },
  { name: 'a device on another tenant', identity: DEVICE, topic: 'rg/v1/other/gas/GD-0001/telemetry', ok: false, reason: /publishes only under/ },
  { name: 'a device under a kind it is not registered as', identity: DEVICE, topic: 'rg/v1/acme/smoke/GD-0001/telemetry', ok: false, reason: /publishes only under/ },
  { name: 'a device on an unknown channel', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/command', ok: false, reason: /channel must be one of telemetry, event, status/ },
  { name: 'a device with an extra level', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/telemetry/x', ok: false, reason: /channel must be/ },
  { name: 'a device on its bare prefix', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/', ok: false, reason: /channel must be/ },
  { name: 'a device id that only starts like its own', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-00012/telemetry', ok: false, reason: /publishes only under/ },
  { name: 'a + wildcard in a publish', identity: DEVICE, topic: 'rg/v1/acme/gas/+/telemetry', ok: false, reason: /MQTT-3\.3\.2-2/ },
  { name: 'a # wildcard in a publish', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/#', ok: false, reason: /MQTT-3\.3\.2-2/ },
  { name: 'a device on $SYS', identity: DEVICE, topic: '$SYS/broker/uptime', ok: false, reason: /MQTT-4\.7\.2-1/ },
  { name: 'a device on its own downlink topic', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/reset', ok: false, reason: /publishes only under/ },
  { name: 'the ingest on a downlink topic', identity: INGEST, topic: 'rg/down/v1/acme/gas/GD-0001/reset', ok: true },
  { name: 'the ingest on an uplink topic', identity: INGEST, topic: 'rg/v1/acme/gas/GD-0001/telemetry', ok: false, reason: /only downlink topics/ },
  { name: 'the ingest on a malformed downlink topic', identity: INGEST, topic: 'rg/down/v1/acme/water/GD-0001/reset', ok: false, reason: /unknown kind/ },
  { name: 'the ingest on $SYS', identity: INGEST, topic: '$SYS/x', ok: false, reason: /reserved/ },
];

const SUBSCRIBE: Case[] = [
  { name: 'a device to all of its commands', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/#', ok: true },
  { name: 'a device to one level of its commands', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/+', ok: true },
  { name: 'a device to one command', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/reset', ok: true },
  { name: 'a device to another device\'s commands', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0002/#', ok: false, reason: /subscribes only under/ },
  { name: 'a device to another tenant\'s commands', identity: DEVICE, topic: 'rg/down/v1/other/gas/GD-0001/#', ok: false, reason: /subscribes only under/ },
  { name: 'a device with a tenant wildcard', identity: DEVICE, topic: 'rg/down/v1/+/gas/GD-0001/#', ok: false, reason: /subscribes only under/ },
  { name: 'a device with a device wildcard', identity: DEVICE, topic: 'rg/down/v1/acme/gas/+/#', ok: false, reason: /subscribes only under/ },
  { name: 'a device to all downlink', identity: DEVICE, topic: 'rg/down/v1/#', ok: false, reason: /subscribes only under/ },
  { name: 'a device to #', identity: DEVICE, topic: '#', ok: false, reason: /subscribes only under/ },
  { name: 'a device to $SYS/#', identity: DEVICE, topic: '$SYS/#', ok: false, reason: /\$ topics/ },
  { name: 'a device to the uplink tree', identity: DEVICE, topic: 'rg/v1/#', ok: false, reason: /subscribes only under/ },
  { name: 'a device to its own uplink', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/telemetry', ok: false, reason: /subscribes only under/ },
  { name: 'a device to a shared subscription', identity: DEVICE, topic: '$share/g/rg/down/v1/acme/gas/GD-0001/#', ok: false, reason: /shared subscriptions/ },
  { name: 'a device to two levels below its prefix', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/a/b', ok: false, reason: /subscribes to/ },
  { name: 'a device with # not last', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/#/x', ok: false, reason: /MQTT-4\.7\.1-2/ },
  { name: 'a device with a partial-level wildcard', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/re+', ok: false, reason: /MQTT-4\.7\.1-3/ },
  { name: 'an empty filter', identity: DEVICE, topic: '', ok: false, reason: /MQTT-4\.7\.3-1/ },
  { name: 'the ingest to the uplink tree', identity: INGEST, topic: 'rg/v1/#', ok: true },
  { name: 'the ingest to one tenant', identity: INGEST, topic: 'rg/v1/acme/+/+/telemetry', ok: true },
  { name: 'the ingest as a shared subscription', identity: INGEST, topic: '$share/gateways/rg/v1/#', ok: true },
  { name: 'the ingest to a malformed shared subscription', identity: INGEST, topic: '$share//rg/v1/#', ok: false, reason: /MQTT-4\.8\.2-1/ },
  { name: 'the ingest to a shared subscription outside rg/v1', identity: INGEST, topic: '$share/g/#', ok: false, reason: /only under rg\/v1\// },
  { name: 'the ingest to #', identity: INGEST, topic: '#', ok: false, reason: /only under rg\/v1\// },
  { name: 'the ingest with a root wildcard', identity: INGEST, topic: '+/v1/#', ok: false, reason: /only under rg\/v1\// },
  { name: 'the ingest to $SYS/#', identity: INGEST, topic: '$SYS/#', ok: false, reason: /only under rg\/v1\// },
  { name: 'the ingest to downlink', identity: INGEST, topic: 'rg/down/v1/#', ok: false, reason: /only under rg\/v1\// },
];

const READ: Case[] = [
  { name: 'a device receives its own command', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0001/reset', ok: true },
  { name: 'a device does not receive another device\'s command', identity: DEVICE, topic: 'rg/down/v1/acme/gas/GD-0002/reset', ok: false },
  { name: 'a device does not receive uplink', identity: DEVICE, topic: 'rg/v1/acme/gas/GD-0001/telemetry', ok: false },
  { name: 'the ingest receives uplink', identity: INGEST, topic: 'rg/v1/acme/gas/GD-0001/telemetry', ok: true },
  { name: 'the ingest does not receive downlink', identity: INGEST, topic: 'rg/down/v1/acme/gas/GD-0001/reset', ok: false },
  { name: 'the ingest does not receive $SYS', identity: INGEST, topic: '$SYS/broker/uptime', ok: false },
];

function check(decision: { ok: true } | { ok: false; reason: string }, c: Case): void {
  expect(decision.ok).toBe(c.ok);
  if (!decision.ok && c.reason) expect(decision.reason).toMatch(c.reason);
}

describe('broker authorizer', () => {
  test.each(PUBLISH)('publish: $name → ok=$ok', (c) => check(authorizePublish(c.identity, c.topic), c));
  test.each(SUBSCRIBE)('subscribe: $name → ok=$ok', (c) => check(authorizeSubscribe(c.identity, c.topic), c));
  test.each(READ)('forward: $name → ok=$ok', (c) => check(authorizeRead(c.identity, c.topic), c));

  test('an unknown role is denied everything', () => {
    const stranger = { role: 'admin' } as unknown as BrokerIdentity;
    expect(authorizePublish(stranger, 'rg/v1/acme/gas/GD-0001/telemetry').ok).toBe(false);
    expect(authorizeSubscribe(stranger, 'rg/v1/#').ok).toBe(false);
    expect(authorizeRead(stranger, 'rg/v1/acme/gas/GD-0001/telemetry').ok).toBe(false);
  });
});

describe('downlink topics', () => {
  test('build and parse are inverse, and the downlink tree lies outside the ingest subscription', () => {
    const t = { tenant: 'acme', kind: 'gas' as const, deviceId: 'GD-0001', command: 'reset' };
    const topic = buildDownlinkTopic(t);
    expect(topic).toBe('rg/down/v1/acme/gas/GD-0001/reset');
    expect(parseDownlinkTopic(topic)).toEqual({ ok: true, topic: t });
    expect(downlinkFilter(t)).toBe('rg/down/v1/acme/gas/GD-0001/#');
    expect(topic.startsWith(INGEST_SUBSCRIPTION.slice(0, -1))).toBe(false);
  });

  test.each([
    ['rg/down/v1/acme/gas/GD-0001', /^expected rg\/down\/v1\//],
    ['rg/down/v1/acme/gas/GD-0001/a/b', /^expected rg\/down\/v1\//],
    ['rg/down/v2/acme/gas/GD-0001/reset', /^expected rg\/down\/v1\//],
    ['rg/down/v1/ac me/gas/GD-0001/reset', /^tenant segment/],
    ['rg/down/v1/acme/water/GD-0001/reset', /^unknown kind "water"/],
    ['rg/down/v1/acme/gas/+/reset', /^deviceId segment/],
    ['rg/down/v1/acme/gas/GD-0001/#', /^command segment/],
  ])('%s is not a downlink topic', (topic, reason) => {
    const r = parseDownlinkTopic(topic);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});
