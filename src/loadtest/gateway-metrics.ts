// What the load test reads of a gateway's /metrics (docs/metrics.md): the ingest and store counters, summed over
// their labels, and the rejects by reason. Prometheus text format 0.0.4, the only one prom-client writes.

/** The counters of one scrape. */
export interface GatewayCounters {
  /** `riskgate_readings_accepted_total`, all kinds. */
  accepted: number;
  /** `riskgate_points_written_total`, all backends. */
  stored: number;
  /** `riskgate_readings_rejected_total` by `reason`. */
  rejected: Record<string, number>;
  /** `riskgate_mqtt_messages_total`, all channels. */
  mqttMessages: number;
}

/** One sample line: metric name, labels, value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of a Prometheus text exposition (comments and blank lines skipped). */
export function parseMetricsText(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE_LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The load test's counters from a scrape. */
export function gatewayCounters(text: string): GatewayCounters {
  const c: GatewayCounters = { accepted: 0, stored: 0, rejected: {}, mqttMessages: 0 };
  for (const s of parseMetricsText(text)) {
    if (s.name === 'riskgate_readings_accepted_total') c.accepted += s.value;
    else if (s.name === 'riskgate_points_written_total') c.stored += s.value;
    else if (s.name === 'riskgate_mqtt_messages_total') c.mqttMessages += s.value;
    else if (s.name === 'riskgate_readings_rejected_total') {
      const reason = s.labels.reason ?? 'unknown';
      c.rejected[reason] = (c.rejected[reason] ?? 0) + s.value;
    }
  }
  return c;
}

/** `later − earlier`, per counter (rejects by reason; reasons that did not grow are left out). */
export function countersDelta(earlier: GatewayCounters, later: GatewayCounters): GatewayCounters {
  const rejected: Record<string, number> = {};
  for (const [reason, n] of Object.entries(later.rejected)) {
    const d = n - (earlier.rejected[reason] ?? 0);
    if (d > 0) rejected[reason] = d;
  }
  return { accepted: later.accepted - earlier.accepted, stored: later.stored - earlier.stored, rejected, mqttMessages: later.mqttMessages - earlier.mqttMessages };
}

/** Sum of the rejects of all reasons. */
export function totalRejected(c: GatewayCounters): number {
  return Object.values(c.rejected).reduce((s, n) => s + n, 0);
}

/** GETs `<gatewayUrl>/metrics` and reads the counters (5 s bound). */
export async function scrapeGateway(gatewayUrl: string): Promise<GatewayCounters> {
  const res = await fetch(new URL('/metrics', gatewayUrl), { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`${gatewayUrl}/metrics answered ${res.status}`);
  return gatewayCounters(await res.text());
}
