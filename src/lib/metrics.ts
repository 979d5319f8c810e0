import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the gateway exports, on its own registry (one per gateway instance, so tests can mount several).
 * Names follow Prometheus conventions: `riskgate_<thing>_<unit>_total`.
 */
export interface Metrics {
  registry: Registry;
  readingsAccepted: Counter<'kind'>;
  readingsRejected: Counter<'reason'>;
  mqttMessages: Counter<'channel'>;
  pointsWritten: Counter<'backend'>;
  batchWriteSeconds: Histogram<'backend'>;
  batchFailures: Counter<'backend'>;
  storePendingPoints: Gauge;
  alertEvents: Counter<'type'>;
  alertsOpen: Gauge;
  alertsInhibited: Counter<'reason'>;
  wsClients: Gauge;
  httpRejects: Counter<'code'>;
  mqttRefusals: Counter<'action'>;
  deadLetters: Gauge;
  /** Alert notifications by notifier and outcome: `sent`, `retried` (one per retry scheduled), `dead_lettered`. */
  notifications: Counter<'notifier' | 'outcome'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'riskgate_' });
  const registers = [registry];
  return {
    registry,
    readingsAccepted: new Counter({ name: 'riskgate_readings_accepted_total', help: 'Readings validated and accepted, by kind', labelNames: ['kind'], registers }),
    readingsRejected: new Counter({ name: 'riskgate_readings_rejected_total', help: 'Messages or readings rejected, by reason', labelNames: ['reason'], registers }),
    mqttMessages: new Counter({ name: 'riskgate_mqtt_messages_total', help: 'MQTT messages received by the ingest client, by channel', labelNames: ['channel'], registers }),
    pointsWritten: new Counter({ name: 'riskgate_points_written_total', help: 'Points acknowledged by the store, by backend', labelNames: ['backend'], registers }),
    batchWriteSeconds: new Histogram({
      name: 'riskgate_batch_write_seconds',
      help: 'Time to write one batch to the store',
      labelNames: ['backend'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchFailures: new Counter({ name: 'riskgate_batch_failures_total', help: 'Batch writes that failed and will be retried', labelNames: ['backend'], registers }),
    storePendingPoints: new Gauge({ name: 'riskgate_store_pending_points', help: 'Points accepted but not yet acknowledged by the store', registers }),
    alertEvents: new Counter({ name: 'riskgate_alert_events_total', help: 'Alert events recorded, by type', labelNames: ['type'], registers }),
    alertsOpen: new Gauge({ name: 'riskgate_alerts_open', help: 'Alerts not yet closed', registers }),
    alertsInhibited: new Counter({ name: 'riskgate_alerts_inhibited_total', help: 'Alerts not raised because an inhibiting alert was active, by reason', labelNames: ['reason'], registers }),
    httpRejects: new Counter({ name: 'riskgate_http_rejects_total', help: 'HTTP requests refused, by error code (validation, auth, scope, rate limit, not found)', labelNames: ['code'], registers }),
    mqttRefusals: new Counter({ name: 'riskgate_mqtt_refusals_total', help: 'Embedded-broker refusals (bad credentials, out-of-scope publish or subscribe), by action', labelNames: ['action'], registers }),
    wsClients: new Gauge({ name: 'riskgate_ws_clients', help: 'Connected WebSocket stream clients', registers }),
    deadLetters: new Gauge({ name: 'riskgate_dead_letters', help: 'Entries held in the dead-letter log', registers }),
    notifications: new Counter({ name: 'riskgate_notifications_total', help: 'Alert notifications by notifier and outcome (sent, retried, dead_lettered)', labelNames: ['notifier', 'outcome'], registers }),
  };
}
