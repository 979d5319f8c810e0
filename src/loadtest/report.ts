import { matchAlert, type PublishLog, type ReceivedAlert } from './alert-matching.js';
import { formatExpected, type ExpectationCheck } from './expected-alerts.js';
import { countersDelta, totalRejected } from './gateway-metrics.js';
import type { RunSample } from './metrics-sampler.js';
import { summarize, type LatencySummary } from './percentiles.js';
import type { PublishProgress } from './publisher.js';

// The outcome of a load-test run as data (`--out report.json`), built from the raw observations by a pure function,
// and its text table. Field names are snake_case: the report is a file other tools read.

/** Value of the report's `format`. */
export const LOADTEST_REPORT_FORMAT = 'riskgate-loadtest/1';

/** One interval between two scrapes of the gateway. */
export interface TimelineRow {
  /** End of the interval, s after the run's start. */
  t_s: number;
  published_per_s: number;
  accepted_per_s: number;
  stored_per_s: number;
  rejected_per_s: number;
  /** Alert events received in the interval. */
  alerts: number;
  /** Of the matched events received in the interval; null when there were none. */
  latency_p95_ms: number | null;
  latency_max_ms: number | null;
}

export interface LoadtestReport {
  format: typeof LOADTEST_REPORT_FORMAT;
  /** ISO-8601. */
  started_at: string;
  duration_s: number;
  gateway_url: string;
  broker_url: string;
  qos: 0 | 1;
  /** What was played, one line per part. */
  workload: string[];
  /** Messages per second the plan asked for; null when it has no single rate (a capture at its recorded timing). */
  offered_rate_per_s: number | null;
  published: { messages: number; readings: number; acked: number; errors: number; first_error: string | null; rate_per_s: number | null; max_lag_ms: number };
  gateway: {
    accepted: number;
    stored: number;
    rejected_total: number;
    rejected: Record<string, number>;
    /** Mean over the time from the first publication until the last reading was accepted (resp. stored). */
    accepted_per_s: number | null;
    stored_per_s: number | null;
    peak_accepted_per_s: number;
    peak_stored_per_s: number;
    /** Every published reading was accepted or rejected. */
    all_accounted: boolean;
    /** Every accepted reading was stored. */
    all_stored: boolean;
    /** From the last publication until every reading was accounted for, s; null when that never happened. */
    drain_s: number | null;
  };
  /** Publication → WebSocket receipt of events caused by a published reading. */
  latency_ms: LatencySummary & { matched: number; unmatched: number };
  alerts: {
    received: number;
    expected: number;
    arrived: number;
    /** null when nothing was expected. */
    all_arrived: boolean | null;
    missing: string[];
    skipped: { alert: string; reason: string }[];
    stream_closed_early: string | null;
  };
  timeline: TimelineRow[];
  /** Every matched event: receipt time (s after the start) and latency, for the chart. */
  latencies: { t_s: number; ms: number }[];
}

/** What a run observed; {@link buildReport} turns it into the report. */
export interface RunObservations {
  /** Wall time the plan starts, epoch ms. */
  startedAtMs: number;
  endedAtMs: number;
  gatewayUrl: string;
  brokerUrl: string;
  qos: 0 | 1;
  workload: string[];
  offeredRatePerS: number | null;
  progress: PublishProgress;
  /** Scrapes in time order; the first is the baseline taken before publishing. */
  samples: readonly RunSample[];
  received: readonly ReceivedAlert[];
  log: PublishLog;
  expectations: ExpectationCheck | null;
  streamClosedEarly?: string;
}

const round = (v: number, decimals = 1): number => Math.round(v * 10 ** decimals) / 10 ** decimals;

export function buildReport(o: RunObservations): LoadtestReport {
  if (o.samples.length === 0) throw new Error('no scrape of the gateway succeeded: nothing to report');
  const base = o.samples[0] as RunSample;
  const last = o.samples[o.samples.length - 1] as RunSample;
  const total = countersDelta(base.counters, last.counters);
  const rejectedTotal = totalRejected(total);
  const rel = (atMs: number): number => round((atMs - o.startedAtMs) / 1000, 3);

  const matched = o.received.flatMap((r) => {
    const m = matchAlert(o.log, r);
    return m ? [m] : [];
  });
  const timeline: TimelineRow[] = [];
  for (let i = 1; i < o.samples.length; i++) {
    const prev = o.samples[i - 1] as RunSample;
    const cur = o.samples[i] as RunSample;
    const dt = (cur.atMs - prev.atMs) / 1000;
    if (dt <= 0) continue;
    const d = countersDelta(prev.counters, cur.counters);
    const inWindow = matched.filter((m) => m.receivedAtMs > prev.atMs && m.receivedAtMs <= cur.atMs).map((m) => m.latencyMs);
    const s = summarize(inWindow);
    timeline.push({
      t_s: rel(cur.atMs),
      published_per_s: round((cur.publishedMessages - prev.publishedMessages) / dt),
      accepted_per_s: round(d.accepted / dt),
      stored_per_s: round(d.stored / dt),
      rejected_per_s: round(totalRejected(d) / dt),
      alerts: o.received.filter((r) => r.receivedAtMs > prev.atMs && r.receivedAtMs <= cur.atMs).length,
      latency_p95_ms: s.p95 === null ? null : round(s.p95, 2),
      latency_max_ms: s.max === null ? null : round(s.max, 2),
    });
  }

  const firstPub = o.progress.firstAtMs ?? o.startedAtMs;
  const lastPub = o.progress.lastAtMs ?? o.startedAtMs;
  // The first scrape at which a counter had reached its final value: when the gateway was done with it.
  const doneAt = (pick: (s: RunSample) => number): number | undefined => o.samples.find((s) => pick(s) >= pick(last))?.atMs;
  const acceptedDone = doneAt((s) => s.counters.accepted);
  const storedDone = doneAt((s) => s.counters.stored);
  const meanRate = (count: number, until: number | undefined): number | null => (until !== undefined && until > firstPub && count > 0 ? round(count / ((until - firstPub) / 1000)) : null);
  const allAccounted = total.accepted + rejectedTotal >= o.progress.readings;
  const accountedAt = o.samples.find((s) => {
    const d = countersDelta(base.counters, s.counters);
    return d.accepted + totalRejected(d) >= o.progress.readings;
  })?.atMs;
  const latency = summarize(matched.map((m) => m.latencyMs));
  const roundSummary = (s: LatencySummary): LatencySummary => ({
    count: s.count,
    p50: s.p50 === null ? null : round(s.p50, 2),
    p95: s.p95 === null ? null : round(s.p95, 2),
    p99: s.p99 === null ? null : round(s.p99, 2),
    max: s.max === null ? null : round(s.max, 2),
    mean: s.mean === null ? null : round(s.mean, 2),
  });
  const x = o.expectations;
  return {
    format: LOADTEST_REPORT_FORMAT,
    started_at: new Date(o.startedAtMs).toISOString(),
    duration_s: round((o.endedAtMs - o.startedAtMs) / 1000, 2),
    gateway_url: o.gatewayUrl,
    broker_url: o.brokerUrl,
    qos: o.qos,
    workload: o.workload,
    offered_rate_per_s: o.offeredRatePerS,
    published: {
      messages: o.progress.messages,
      readings: o.progress.readings,
      acked: o.progress.acked,
      errors: o.progress.errors,
      first_error: o.progress.firstError ?? null,
      rate_per_s: lastPub > firstPub ? round((o.progress.messages - 1) / ((lastPub - firstPub) / 1000)) : null,
      max_lag_ms: round(o.progress.maxLagMs),
    },
    gateway: {
      accepted: total.accepted,
      stored: total.stored,
      rejected_total: rejectedTotal,
      rejected: total.rejected,
      accepted_per_s: meanRate(total.accepted, acceptedDone),
      stored_per_s: meanRate(total.stored, storedDone),
      peak_accepted_per_s: Math.max(0, ...timeline.map((r) => r.accepted_per_s)),
      peak_stored_per_s: Math.max(0, ...timeline.map((r) => r.stored_per_s)),
      all_accounted: allAccounted,
      all_stored: total.stored >= total.accepted,
      drain_s: allAccounted && accountedAt !== undefined ? round(Math.max(0, accountedAt - lastPub) / 1000, 2) : null,
    },
    latency_ms: { ...roundSummary(latency), matched: matched.length, unmatched: o.received.length - matched.length },
    alerts: {
      received: o.received.length,
      expected: x?.expected ?? 0,
      arrived: x?.arrived ?? 0,
      all_arrived: x && x.expected > 0 ? x.missing.length === 0 : null,
      missing: (x?.missing ?? []).map(formatExpected),
      skipped: (x?.skipped ?? []).map((s) => ({ alert: formatExpected(s.alert), reason: s.reason })),
      stream_closed_early: o.streamClosedEarly ?? null,
    },
    timeline,
    latencies: matched.map((m) => ({ t_s: rel(m.receivedAtMs), ms: round(m.latencyMs, 2) })),
  };
}

/** Lays out rows as columns: the first left-aligned, the others right-aligned. */
export function formatColumns(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows
    .map((r) => indent + r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('   ').trimEnd())
    .join('\n');
}

const num = (v: number | null | undefined, decimals = 1): string => (v === null || v === undefined ? '—' : v.toFixed(decimals).replace(/\.0+$/, ''));

/** The report as the table `riskgate loadtest` prints. */
export function formatReportTable(r: LoadtestReport): string {
  const g = r.gateway;
  const rejects = Object.entries(g.rejected).map(([reason, n]) => `${reason} ${n}`).join(', ');
  const lines = [
    `riskgate loadtest: ${r.workload.join('; ')}`,
    `  gateway ${r.gateway_url}, broker ${r.broker_url}, QoS ${r.qos}, ${num(r.duration_s)} s${r.offered_rate_per_s === null ? '' : `, offered ${num(r.offered_rate_per_s)} msg/s`}`,
    '',
    formatColumns([
      ['', 'total', 'mean /s', 'peak /s'],
      ['published messages', String(r.published.messages), num(r.published.rate_per_s), ''],
      ['published readings', String(r.published.readings), '', ''],
      ['accepted readings', String(g.accepted), num(g.accepted_per_s), num(g.peak_accepted_per_s)],
      ['stored readings', String(g.stored), num(g.stored_per_s), num(g.peak_stored_per_s)],
      ['rejected', String(g.rejected_total), '', ''],
    ]),
    '',
  ];
  if (rejects) lines.push(`  rejects by reason: ${rejects}`);
  if (r.published.errors > 0) lines.push(`  publish errors: ${r.published.errors} (first: ${r.published.first_error})`);
  lines.push(
    `  accounted for: ${g.all_accounted ? `all ${r.published.readings} readings accepted or rejected${g.drain_s === null ? '' : `, ${num(g.drain_s, 2)} s after the last publication`}` : `${g.accepted + g.rejected_total} of ${r.published.readings} readings`}` +
      `${g.all_stored ? '' : `; ${g.accepted - g.stored} accepted readings not stored yet`}`,
  );
  const l = r.latency_ms;
  lines.push(
    '',
    formatColumns([
      ['alert latency (ms)', 'n', 'p50', 'p95', 'p99', 'max'],
      ['publish → WebSocket', String(l.count), num(l.p50, 2), num(l.p95, 2), num(l.p99, 2), num(l.max, 2)],
    ]),
    `  ${r.alerts.received} alert events received, ${l.matched} matched to a published reading${l.unmatched > 0 ? `, ${l.unmatched} not (time-driven, or caused by other traffic)` : ''}`,
  );
  const a = r.alerts;
  if (a.all_arrived === null) lines.push('  expected alerts: none given');
  else lines.push(`  expected alerts: ${a.arrived}/${a.expected} arrived${a.all_arrived ? '' : ` — MISSING ${a.missing.length}:`}`);
  for (const m of a.missing.slice(0, 20)) lines.push(`    ✗ ${m}`);
  if (a.missing.length > 20) lines.push(`    … and ${a.missing.length - 20} more`);
  if (a.skipped.length > 0) lines.push(`  not expected of a compressed run (${a.skipped.length}): ${a.skipped.map((s) => `${s.alert} (${s.reason})`).join('; ')}`);
  if (a.stream_closed_early) lines.push(`  WARNING: ${a.stream_closed_early}`);
  return `${lines.join('\n')}\n`;
}
