import type { AlertEvent, AlertEventType } from '../alerts/alert.js';

// End-to-end alert latency without marking the payloads: an alert event names the device and the device time of the
// reading that caused it (src/alerts/alert-service.ts: `raised_at`, `last_at`, `cleared_at` are that reading's `ts`),
// and the load generator remembers when it published each (tenant, device, ts). The difference between the
// publication and the WebSocket receipt is the latency. Time-driven events (escalated, offline, flapping) and operator
// actions have no triggering reading and are not matched.

/** The parts of a stream `alert_event` this module reads (src/alerts/alert.ts). */
export type StreamAlertEvent = Pick<AlertEvent, 'seq' | 'type' | 'at' | 'actor'> & {
  alert: Pick<AlertEvent['alert'], 'tenant' | 'device_id' | 'rule_id' | 'rule_type' | 'level' | 'historical' | 'title' | 'raised_at' | 'last_at' | 'cleared_at'>;
};

/** An alert event as the load test received it. */
export interface ReceivedAlert {
  /** Wall time the WebSocket message arrived, epoch ms (fractional). */
  receivedAtMs: number;
  event: StreamAlertEvent;
}

/**
 * Device time of the reading that caused the event, epoch ms; undefined for events no reading causes (escalation,
 * flapping, operator actions) and for a `closed` by a person.
 */
export function triggeringTs(ev: StreamAlertEvent): number | undefined {
  const a = ev.alert;
  const byType: Partial<Record<AlertEventType, number | null>> = {
    raised: a.raised_at,
    level_changed: a.last_at,
    reactivated: a.last_at,
    cleared: a.cleared_at,
    // A level-4 alert closes by itself right after the reading that cleared it (ALERT_AUTO_CLOSE_LEVELS).
    closed: ev.actor === 'system' ? a.cleared_at : null,
  };
  const ts = byType[ev.type];
  return ts === null || ts === undefined ? undefined : ts;
}

function readingKey(tenant: string, deviceId: string, ts: number): string {
  return `${tenant}/${deviceId}@${ts}`;
}

/**
 * When each reading was published, by (tenant, device, device time). A reading published twice keeps the later
 * time: an alert can only have come from a copy that was already sent.
 */
export class PublishLog {
  private readonly at = new Map<string, number>();

  /** Records that a message carrying readings with these device times was handed to the broker client at `atMs`. */
  record(tenant: string, deviceId: string, readingTs: readonly number[], atMs: number): void {
    for (const ts of readingTs) this.at.set(readingKey(tenant, deviceId, ts), atMs);
  }

  /** Publication time of the reading, epoch ms; undefined when it was not published (or not tracked). */
  publishedAt(tenant: string, deviceId: string, ts: number): number | undefined {
    return this.at.get(readingKey(tenant, deviceId, ts));
  }

  get size(): number {
    return this.at.size;
  }
}

/** An event matched to the publication of its triggering reading. */
export interface AlertLatency {
  /** Publication time, epoch ms. */
  publishedAtMs: number;
  receivedAtMs: number;
  /** receivedAtMs − publishedAtMs. */
  latencyMs: number;
}

/** The latency of a received event, or undefined when it has no triggering reading or that reading was not logged. */
export function matchAlert(log: PublishLog, received: ReceivedAlert): AlertLatency | undefined {
  const ts = triggeringTs(received.event);
  if (ts === undefined) return undefined;
  const publishedAtMs = log.publishedAt(received.event.alert.tenant, received.event.alert.device_id, ts);
  if (publishedAtMs === undefined) return undefined;
  return { publishedAtMs, receivedAtMs: received.receivedAtMs, latencyMs: received.receivedAtMs - publishedAtMs };
}
