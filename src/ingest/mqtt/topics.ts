import { isKindName, type KindName } from '../../kinds/kind.js';
import type { Channel } from '../../pipeline/reading.js';

/** Topic root of the wire contract: `rg/v1/{tenant}/{kind}/{deviceId}/{channel}`. */
export const TOPIC_ROOT = 'rg/v1';
/**
 * What the ingest client subscribes to: everything under the root, not just the six-level shape, so a topic with a
 * missing or extra level reaches parseTopic and is rejected as `bad_topic` (counted, dead-lettered) instead of being
 * dropped unseen by the broker (ARCHITECTURE.md: never a silent drop).
 */
export const INGEST_SUBSCRIPTION = `${TOPIC_ROOT}/#`;

const CHANNELS: ReadonlySet<string> = new Set<Channel>(['telemetry', 'event', 'status']);
const SEGMENT = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface DeviceTopic {
  tenant: string;
  kind: KindName;
  deviceId: string;
  channel: Channel;
}

export type TopicResult = { ok: true; topic: DeviceTopic } | { ok: false; reason: string };

const UPLINK_PREFIX = `${TOPIC_ROOT}/`;

/**
 * The only topic parser: every MQTT message goes through here. Scans for the four level separators instead of
 * splitting (issue 9: no array per message); the same decisions and reasons as `topic.split('/')` into six levels.
 */
export function parseTopic(topic: string): TopicResult {
  const start = UPLINK_PREFIX.length;
  const a = topic.startsWith(UPLINK_PREFIX) ? topic.indexOf('/', start) : -1;
  const b = a < 0 ? -1 : topic.indexOf('/', a + 1);
  const c = b < 0 ? -1 : topic.indexOf('/', b + 1);
  if (c < 0 || topic.indexOf('/', c + 1) !== -1) {
    return { ok: false, reason: `expected rg/v1/{tenant}/{kind}/{deviceId}/{channel}, got ${JSON.stringify(topic.slice(0, 200))}` };
  }
  const tenant = topic.slice(start, a);
  const kind = topic.slice(a + 1, b);
  const deviceId = topic.slice(b + 1, c);
  const channel = topic.slice(c + 1);
  if (!SEGMENT.test(tenant)) return { ok: false, reason: 'tenant segment must be 1–64 characters of A–Z a–z 0–9 _ . : -' };
  if (!isKindName(kind)) return { ok: false, reason: `unknown kind "${kind.slice(0, 64)}" (expected gas, dust, electrical_fire, smoke or vehicle)` };
  if (!SEGMENT.test(deviceId)) return { ok: false, reason: 'deviceId segment must be 1–64 characters of A–Z a–z 0–9 _ . : -' };
  if (!CHANNELS.has(channel)) return { ok: false, reason: `unknown channel "${channel.slice(0, 64)}" (expected telemetry, event or status)` };
  return { ok: true, topic: { tenant, kind, deviceId, channel: channel as Channel } };
}

/** The only topic builder. */
export function buildTopic(t: DeviceTopic): string {
  return `${TOPIC_ROOT}/${t.tenant}/${t.kind}/${t.deviceId}/${t.channel}`;
}

/** The device channels of the wire contract, in the order they are documented. */
export const DEVICE_CHANNELS: readonly Channel[] = ['telemetry', 'event', 'status'];

/**
 * Topic root of commands to devices: `rg/down/v1/{tenant}/{kind}/{deviceId}/{command}`. It lies outside `rg/v1/#` on
 * purpose, so the ingest subscription never receives the gateway's own downlink messages.
 */
export const DOWNLINK_ROOT = 'rg/down/v1';

/** A command topic addressed to one device. */
export interface DownlinkTopic {
  tenant: string;
  kind: KindName;
  deviceId: string;
  /** Command name: 1–64 characters of A–Z a–z 0–9 _ . : - (one topic level). */
  command: string;
}

export type DownlinkTopicResult = { ok: true; topic: DownlinkTopic } | { ok: false; reason: string };

/** True when `value` may stand as one topic level of the contract (tenant, deviceId, command). */
export function isTopicSegment(value: string): boolean {
  return SEGMENT.test(value);
}

/** The only downlink topic parser. */
export function parseDownlinkTopic(topic: string): DownlinkTopicResult {
  const parts = topic.split('/');
  if (parts.length !== 7 || parts[0] !== 'rg' || parts[1] !== 'down' || parts[2] !== 'v1') {
    return { ok: false, reason: `expected rg/down/v1/{tenant}/{kind}/{deviceId}/{command}, got ${JSON.stringify(topic.slice(0, 200))}` };
  }
  const [, , , tenant, kind, deviceId, command] = parts as [string, string, string, string, string, string, string];
  if (!SEGMENT.test(tenant)) return { ok: false, reason: 'tenant segment must be 1–64 characters of A–Z a–z 0–9 _ . : -' };
  if (!isKindName(kind)) return { ok: false, reason: `unknown kind "${kind.slice(0, 64)}" (expected gas, dust, electrical_fire, smoke or vehicle)` };
  if (!SEGMENT.test(deviceId)) return { ok: false, reason: 'deviceId segment must be 1–64 characters of A–Z a–z 0–9 _ . : -' };
  if (!SEGMENT.test(command)) return { ok: false, reason: 'command segment must be 1–64 characters of A–Z a–z 0–9 _ . : -' };
  return { ok: true, topic: { tenant, kind, deviceId, command } };
}

/** The only downlink topic builder. */
export function buildDownlinkTopic(t: DownlinkTopic): string {
  return `${downlinkPrefix(t)}${t.command}`;
}

/** `rg/down/v1/{tenant}/{kind}/{deviceId}/`: every command topic of one device starts with this. */
export function downlinkPrefix(d: { tenant: string; kind: KindName; deviceId: string }): string {
  return `${DOWNLINK_ROOT}/${d.tenant}/${d.kind}/${d.deviceId}/`;
}

/** The filter a device subscribes to for all of its commands: `rg/down/v1/{tenant}/{kind}/{deviceId}/#`. */
export function downlinkFilter(d: { tenant: string; kind: KindName; deviceId: string }): string {
  return `${downlinkPrefix(d)}#`;
}

/** `rg/v1/{tenant}/{kind}/{deviceId}/`: every uplink topic of one device starts with this. */
export function uplinkPrefix(d: { tenant: string; kind: KindName; deviceId: string }): string {
  return `${TOPIC_ROOT}/${d.tenant}/${d.kind}/${d.deviceId}/`;
}
