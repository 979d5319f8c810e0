import { DEVICE_CHANNELS, downlinkPrefix, isTopicSegment, parseDownlinkTopic, TOPIC_ROOT, uplinkPrefix } from '../ingest/mqtt/topics.js';
import type { KindName } from '../kinds/kind.js';

/**
 * Who holds an MQTT connection, as far as topic permissions go. Shared by the embedded aedes broker and the HTTP
 * authorizer an external broker (EMQX) calls, so both enforce one rule set.
 */
export type BrokerIdentity =
  /** A registered device; `kind` is its registered kind (looked up at decision time, not taken from the topic). */
  | { role: 'device'; tenant: string; deviceId: string; kind: KindName }
  /** The gateway's own ingest client: reads every uplink topic, writes downlink topics. */
  | { role: 'ingest' };

/** Allowed, or denied with a reason for the log (never sent to the client: MQTT 3.1.1 has no field for it). */
export type Decision = { ok: true } | { ok: false; reason: string };

const ALLOW: Decision = { ok: true };
const deny = (reason: string): Decision => ({ ok: false, reason });

const SHARE_PREFIX = '$share/';
const CHANNELS: ReadonlySet<string> = new Set(DEVICE_CHANNELS);

/**
 * May `identity` publish to `topic`? A device only to `rg/v1/{its tenant}/{its registered kind}/{its id}/{channel}`
 * with a channel of the contract; the ingest identity only to downlink topics. Everything else is denied.
 */
export function authorizePublish(identity: BrokerIdentity, topic: string): Decision {
  // [MQTT-3.3.2-2] a PUBLISH topic must not contain wildcards; brokers check it too, this keeps the rule self-contained.
  if (topic.includes('+') || topic.includes('#')) return deny('wildcards are not allowed in a PUBLISH topic [MQTT-3.3.2-2]');
  // [MQTT-4.7.2-1] topics starting with '$' are the broker's ($SYS); no client publishes there.
  if (topic.startsWith('$')) return deny('topics starting with $ are reserved for the broker [MQTT-4.7.2-1]');
  switch (identity.role) {
    case 'device': {
      const prefix = uplinkPrefix(identity);
      if (!topic.startsWith(prefix)) return deny(`a device publishes only under ${prefix}`);
      const channel = topic.slice(prefix.length);
      if (!CHANNELS.has(channel)) return deny(`channel must be one of ${DEVICE_CHANNELS.join(', ')}`);
      return ALLOW;
    }
    case 'ingest': {
      const parsed = parseDownlinkTopic(topic);
      return parsed.ok ? ALLOW : deny(`the ingest identity publishes only downlink topics: ${parsed.reason}`);
    }
    default:
      return deny('unknown identity');
  }
}

/**
 * May `identity` subscribe to `filter`? A device only to its own downlink topics (`…/{deviceId}/#`, `…/{deviceId}/+`
 * or one command); the ingest identity to any filter under `rg/v1/` (optionally as an MQTT 5 shared subscription).
 * A wildcard that would widen beyond the identity's own prefix (`rg/down/v1/+/…`, `#`, `$SYS/#`) is denied.
 */
export function authorizeSubscribe(identity: BrokerIdentity, filter: string): Decision {
  const invalid = filterProblem(filter);
  if (invalid) return deny(invalid);
  switch (identity.role) {
    case 'device': {
      if (filter.startsWith('$')) return deny('a device may not subscribe to $ topics or shared subscriptions');
      const prefix = downlinkPrefix(identity);
      // The prefix levels must be literal: a '+' or '#' there would match other devices' commands.
      if (!filter.startsWith(prefix)) return deny(`a device subscribes only under ${prefix}`);
      const rest = filter.slice(prefix.length);
      if (rest === '#' || rest === '+' || isTopicSegment(rest)) return ALLOW;
      return deny(`a device subscribes to ${prefix}# , ${prefix}+ or ${prefix}{command}`);
    }
    case 'ingest': {
      let inner = filter;
      if (filter.startsWith(SHARE_PREFIX)) {
        // MQTT 5.0 §4.8.2: $share/{ShareName}/{filter}; [MQTT-4.8.2-1] ShareName has at least one character and no
        // '/', '+' or '#'; [MQTT-4.8.2-2] a filter follows it.
        const rest = filter.slice(SHARE_PREFIX.length);
        const slash = rest.indexOf('/');
        const shareName = slash < 0 ? rest : rest.slice(0, slash);
        if (slash < 1 || shareName.includes('+') || shareName.includes('#')) return deny('malformed shared subscription [MQTT-4.8.2-1]');
        inner = rest.slice(slash + 1);
        const innerProblem = filterProblem(inner);
        if (innerProblem) return deny(innerProblem);
      }
      if (!inner.startsWith(`${TOPIC_ROOT}/`)) return deny(`the ingest identity subscribes only under ${TOPIC_ROOT}/`);
      return ALLOW;
    }
    default:
      return deny('unknown identity');
  }
}

/**
 * May a message on `topic` be delivered to `identity`? The broker asks this for every message it forwards, so a
 * session restored for a client id (or a queue filled before a credential change) never reaches someone who could
 * not subscribe to it now.
 */
export function authorizeRead(identity: BrokerIdentity, topic: string): Decision {
  switch (identity.role) {
    case 'device':
      return topic.startsWith(downlinkPrefix(identity)) ? ALLOW : deny('not a downlink topic of this device');
    case 'ingest':
      return topic.startsWith(`${TOPIC_ROOT}/`) ? ALLOW : deny(`the ingest identity reads only ${TOPIC_ROOT}/ topics`);
    default:
      return deny('unknown identity');
  }
}

/** Why `filter` is not a valid MQTT topic filter, or undefined when it is. */
function filterProblem(filter: string): string | undefined {
  // [MQTT-4.7.3-1] topic names and filters are at least one character long.
  if (filter.length === 0) return 'empty topic filter [MQTT-4.7.3-1]';
  // [MQTT-4.7.3-2] no null character.
  if (filter.includes('\u0000')) return 'null character in topic filter [MQTT-4.7.3-2]';
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    // [MQTT-4.7.1-2] '#' stands alone in the last level.
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return "'#' must be the whole last level [MQTT-4.7.1-2]";
    // [MQTT-4.7.1-3] '+' occupies an entire level.
    if (level.includes('+') && level !== '+') return "'+' must occupy an entire level [MQTT-4.7.1-3]";
  }
  return undefined;
}
