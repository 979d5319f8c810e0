import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the gateway exports, on its own registry (one per gateway instance, so tests can mount several).
 * Names follow Prometheus conventions: `riskgate_<thing>_<unit>_total`.
 */
export interface Metrics {
  registry: Registry;
  readingsAccepted: TalliedCounter<'kind'>;
  readingsRejected: Counter<'reason'>;
  mqttMessages: TalliedCounter<'channel'>;
  pointsWritten: Counter<'backend'>;
  batchWriteSeconds: Histogram<'backend'>;
  batchFailures: Counter<'backend'>;
  storePendingPoints: Gauge;
  storeLagSeconds: Gauge;
  spoolBytes: Gauge;
  spoolBacklogBytes: Gauge;
  spoolSegments: Gauge;
  storeReadingBack: Gauge;
  alertEvents: Counter<'type'>;
  alertsOpen: Gauge;
  alertsInhibited: Counter<'reason'>;
  wsClients: Gauge;
  httpRejects: Counter<'code'>;
  mqttRefusals: Counter<'action'>;
  deadLetters: Gauge;
  /** Points read back from the spool (the store fell behind by more than memory holds, or a restart replayed them). */
  spoolReadPoints: Counter;
  /** Points found in the spool at start (accepted before the last stop or crash, not known to be stored). */
  spoolReplayedPoints: Counter;
  spoolTornRecords: Counter;
  spoolWriteErrors: Counter;
  /** 1 while the MQTT ingest holds off reading because the spool is full (or failing). */
  ingestPaused: Gauge;
  /** Live values read at scrape time (spool size, store lag); set by the composition root. */
  sources: MetricSources;
  /** Alert notifications by notifier and outcome: `sent`, `retried` (one per retry scheduled), `dead_lettered`. */
  notifications: Counter<'notifier' | 'outcome'>;
  /** JT/T 808 frames that passed framing and checksum, by msg id (`0x0200`; ids the codec does not know: `other`). */
  jt808Frames: Counter<'msg_id'>;
  /** JT/T 808 input that failed to decode, by reason (docs/jt808.md "Decode error reasons"). */
  jt808DecodeErrors: Counter<'reason'>;
  /** JT/T 808 messages answered with a refusal, by reason (`unauthenticated`, `auth_failed`, …). */
  jt808Refusals: Counter<'reason'>;
  /** Retransmitted 0x0200/0x0704 answered again but not forwarded, by msg id. */
  jt808Duplicates: Counter<'msg_id'>;
  /** JT/T 808 connections closed, by reason (`peer_closed`, `heartbeat_timeout`, `decode_errors`, `max_connections`, …). */
  jt808ConnectionsClosed: Counter<'reason'>;
  /** Open JT/T 808 TCP connections. */
  jt808Connections: Gauge;
  /** Authenticated JT/T 808 terminals. */
  jt808SessionsOnline: Gauge;
  /** Locations handed to the pipeline, by type: `live` (0x0200, 0x0704 type 0) or `history` (0x0704 type 1, 盲区补报). */
  jt808Locations: Counter<'type'>;
  /** 0x8203 alarm confirmations after an operator acknowledged an alert, by outcome (`sent`, `queued`: terminal offline). */
  jt808AlarmConfirmations: Counter<'outcome'>;
}

/** A counter by one label, counted per message with {@link TalliedCounter.tally}. */
export type TalliedCounter<L extends string> = Counter<L> & {
  /** One more for this label value: a number added up now, handed to prom-client when the counter is read. */
  tally(value: string): void;
};

/**
 * A counter of the hot path (issue 9): a labelled `inc` hashes its labels on every call, twice per message; here a
 * message adds to a plain number per label value, and the sums go to prom-client in `collect`, which prom-client
 * calls whenever the counter is read (`/metrics`, `get()`), so every read sees every count.
 */
function talliedCounter<L extends string>(config: { name: string; help: string; labelName: L; registers: Registry[] }): TalliedCounter<L> {
  const pending = new Map<string, number>();
  const counter = new Counter<L>({
    name: config.name,
    help: config.help,
    labelNames: [config.labelName],
    registers: config.registers,
    collect() {
      for (const [value, n] of pending) this.inc({ [config.labelName]: value } as Partial<Record<L, string>>, n);
      pending.clear();
    },
  });
  return Object.assign(counter, {
    tally(value: string): void {
      pending.set(value, (pending.get(value) ?? 0) + 1);
    },
  });
}

/** Functions the gauges read when scraped (cheaper than updating them on every point). */
export interface MetricSources {
  store?: () => { pendingPoints: number; lagSeconds: number; spoolBytes: number; spoolBacklogBytes: number; spoolSegments: number; readingBack: boolean };
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'riskgate_' });
  const registers = [registry];
  const sources: MetricSources = {};
  const fromStore = <K extends 'pendingPoints' | 'lagSeconds' | 'spoolBytes' | 'spoolBacklogBytes' | 'spoolSegments'>(key: K) =>
    function (this: Gauge) {
      const s = sources.store?.();
      if (s) this.set(s[key]);
    };
  return {
    sources,
    registry,
    readingsAccepted: talliedCounter({ name: 'riskgate_readings_accepted_total', help: 'Readings validated and accepted, by kind', labelName: 'kind', registers }),
    readingsRejected: new Counter({ name: 'riskgate_readings_rejected_total', help: 'Messages or readings rejected, by reason', labelNames: ['reason'], registers }),
    mqttMessages: talliedCounter({ name: 'riskgate_mqtt_messages_total', help: 'MQTT messages received by the ingest client, by channel', labelName: 'channel', registers }),
    pointsWritten: new Counter({ name: 'riskgate_points_written_total', help: 'Points acknowledged by the store, by backend', labelNames: ['backend'], registers }),
    batchWriteSeconds: new Histogram({
      name: 'riskgate_batch_write_seconds',
      help: 'Time to write one batch to the store',
      labelNames: ['backend'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchFailures: new Counter({ name: 'riskgate_batch_failures_total', help: 'Batch writes that failed and will be retried', labelNames: ['backend'], registers }),
    storePendingPoints: new Gauge({ name: 'riskgate_store_pending_points', help: 'Points accepted but not yet acknowledged by the store (the store lag in points)', registers, collect: fromStore('pendingPoints') }),
    storeLagSeconds: new Gauge({ name: 'riskgate_store_lag_seconds', help: 'How long the oldest point not yet acknowledged by the store has waited', registers, collect: fromStore('lagSeconds') }),
    spoolBytes: new Gauge({ name: 'riskgate_spool_bytes', help: 'Bytes in the write-ahead spool segments not yet deleted', registers, collect: fromStore('spoolBytes') }),
    spoolBacklogBytes: new Gauge({ name: 'riskgate_spool_backlog_bytes', help: 'Bytes of spool records not yet stored (bounded by SPOOL_MAX_MB)', registers, collect: fromStore('spoolBacklogBytes') }),
    spoolSegments: new Gauge({ name: 'riskgate_spool_segments', help: 'Segment files in the write-ahead spool', registers, collect: fromStore('spoolSegments') }),
    storeReadingBack: new Gauge({
      name: 'riskgate_store_reading_back',
      help: '1 while the store writer reads its backlog back from the spool instead of memory',
      registers,
      collect(this: Gauge) {
        const s = sources.store?.();
        if (s) this.set(s.readingBack ? 1 : 0);
      },
    }),
    spoolReadPoints: new Counter({ name: 'riskgate_spool_read_points_total', help: 'Points read back from the spool to be written to the store', registers }),
    spoolReplayedPoints: new Counter({ name: 'riskgate_spool_replayed_points_total', help: 'Points found in the spool at start, not known to be stored, and written again', registers }),
    spoolTornRecords: new Counter({ name: 'riskgate_spool_torn_records_total', help: 'Spool records skipped because they were cut short or failed their checksum', registers }),
    spoolWriteErrors: new Counter({ name: 'riskgate_spool_write_errors_total', help: 'Appends to the spool that failed (disk full or failing)', registers }),
    ingestPaused: new Gauge({ name: 'riskgate_ingest_paused', help: '1 while the MQTT ingest stops reading because the spool is full or failing', registers }),
    alertEvents: new Counter({ name: 'riskgate_alert_events_total', help: 'Alert events recorded, by type', labelNames: ['type'], registers }),
    alertsOpen: new Gauge({ name: 'riskgate_alerts_open', help: 'Alerts not yet closed', registers }),
    alertsInhibited: new Counter({ name: 'riskgate_alerts_inhibited_total', help: 'Alerts not raised because an inhibiting alert was active, by reason', labelNames: ['reason'], registers }),
    httpRejects: new Counter({ name: 'riskgate_http_rejects_total', help: 'HTTP requests refused, by error code (validation, auth, scope, rate limit, not found)', labelNames: ['code'], registers }),
    mqttRefusals: new Counter({ name: 'riskgate_mqtt_refusals_total', help: 'Embedded-broker refusals (bad credentials, out-of-scope publish or subscribe), by action', labelNames: ['action'], registers }),
    wsClients: new Gauge({ name: 'riskgate_ws_clients', help: 'Connected WebSocket stream clients', registers }),
    deadLetters: new Gauge({ name: 'riskgate_dead_letters', help: 'Entries held in the dead-letter log', registers }),
    notifications: new Counter({ name: 'riskgate_notifications_total', help: 'Alert notifications by notifier and outcome (sent, retried, dead_lettered)', labelNames: ['notifier', 'outcome'], registers }),
    jt808Frames: new Counter({ name: 'riskgate_jt808_frames_total', help: 'JT/T 808 frames that passed framing and checksum, by msg id', labelNames: ['msg_id'], registers }),
    jt808DecodeErrors: new Counter({ name: 'riskgate_jt808_decode_errors_total', help: 'JT/T 808 input that failed to decode, by reason', labelNames: ['reason'], registers }),
    jt808Refusals: new Counter({ name: 'riskgate_jt808_refusals_total', help: 'JT/T 808 messages answered with a refusal, by reason', labelNames: ['reason'], registers }),
    jt808Duplicates: new Counter({ name: 'riskgate_jt808_duplicates_total', help: 'Retransmitted JT/T 808 location messages answered but not forwarded again, by msg id', labelNames: ['msg_id'], registers }),
    jt808ConnectionsClosed: new Counter({ name: 'riskgate_jt808_connections_closed_total', help: 'JT/T 808 connections closed, by reason', labelNames: ['reason'], registers }),
    jt808Connections: new Gauge({ name: 'riskgate_jt808_connections', help: 'Open JT/T 808 TCP connections', registers }),
    jt808SessionsOnline: new Gauge({ name: 'riskgate_jt808_sessions_online', help: 'Authenticated JT/T 808 terminals', registers }),
    jt808Locations: new Counter({ name: 'riskgate_jt808_locations_total', help: 'JT/T 808 locations handed to the pipeline, by type (live, history)', labelNames: ['type'], registers }),
    jt808AlarmConfirmations: new Counter({ name: 'riskgate_jt808_alarm_confirmations_total', help: '0x8203 alarm confirmations after an operator acknowledged an alert, by outcome (sent, queued)', labelNames: ['outcome'], registers }),
  };
}
