import { formatColumns } from '../../src/loadtest/report.js';
import type { LatencyPhase, MeasureSettings, SystemResult } from './measure.js';

// The bench's results file (bench/results/latest.json) and its printed tables: throughput, CPU per reading and
// latency per system, each figure also as a ratio to (a) the bare subscriber, (b) the naive pipeline and (n)
// Node-RED, and issue 9's targets for riskgate (d) against (b) and (n), met or not.

export const BENCH_RESULTS_FORMAT = 'riskgate-bench/2';

export interface BenchResults {
  format: typeof BENCH_RESULTS_FORMAT;
  started_at: string;
  duration_s: number;
  quick: boolean;
  machine: { cpus: number; cpu_model: string; memory_gb: number; node: string; os: string; load_avg_start: number[]; load_avg_end: number[]; mosquitto: string; influxd: string };
  settings: MeasureSettings & { payload_bytes: number; kinds: Record<string, number> };
  systems: SystemResult[];
  /** Systems asked for but not measured, and why (e.g. Node-RED could not be installed). */
  skipped: { id: string; reason: string }[];
}

const fmt = (v: number | null | undefined, decimals = 0): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(decimals));

/** `value ÷ of`, as `×1.23`; — when either is missing. */
export function ratio(value: number | null | undefined, of: number | null | undefined): string {
  if (value === null || value === undefined || of === null || of === undefined || !(of > 0)) return '—';
  return `×${(value / of).toFixed(value / of >= 10 ? 1 : 2)}`;
}

const quotient = (value: number | null | undefined, of: number | null | undefined): number | null =>
  value === null || value === undefined || of === null || of === undefined || !(of > 0) ? null : value / of;

/** Issue 9's targets for riskgate (d). */
const TARGETS = {
  cpuVsNaive: 0.8,
  cpuVsNodeRed: 1 / 3,
  throughputVsNaive: 0.9,
  throughputVsNodeRed: 1.8,
  p99At50Ms: 25,
} as const;

export function formatBenchTables(r: BenchResults): string {
  const by = (id: string): SystemResult | undefined => r.systems.find((x) => x.id === id);
  const [a, b, n, d] = [by('a'), by('b'), by('n'), by('d')];
  const peers = [a, b, n].filter((x): x is SystemResult => x !== undefined);
  const label = (x: SystemResult): string => `(${x.id}) ${x.name}`;
  const s = r.settings;
  const sustained = (x: SystemResult | undefined): number | null | undefined => x?.throughput.sustained_per_s;
  const bound = (x: SystemResult): string => (x.throughput.ceiling_reached ? '' : '≥');
  const cpu = (x: SystemResult | undefined): number | null | undefined => x?.cpu_phase.cpu_us_per_reading;
  const at50 = (x: SystemResult | undefined): LatencyPhase | undefined => x?.latency_phases.find((p) => p.fraction === 0.5);
  // The highest ladder step every system kept: CPU per reading there too (per-wake-up costs weigh less at a high rate).
  const common = s.stepRates.filter((rate) => r.systems.every((x) => x.steps.some((st) => st.offered_per_s === rate && st.kept))).at(-1);
  const stepCpu = (x: SystemResult | undefined): number | null | undefined => x?.steps.find((st) => st.offered_per_s === common)?.cpu_us_per_reading;
  const kinds = Object.entries(s.kinds).map(([k, v]) => `${k} ${v}`).join(', ');

  const out = [
    `riskgate bench — replay of ${s.devices} city-fleet devices (${kinds}), ~${s.payload_bytes}-byte JSON readings, QoS ${s.qos}, one gas reading in ${s.alertEvery} per device over 25 %LEL`,
    `phases: CPU ${s.cpuRatePerS} msg/s × ${s.cpuMs / 1000} s; ladder ${s.stepRates.join(', ')} msg/s × ${s.stepMs / 1000} s; latency at ${s.latencyFractions.map((f) => `${Math.round(f * 100)} %`).join(', ')} of S × ${s.latencyMs / 1000} s`,
    `machine: ${r.machine.cpus} × ${r.machine.cpu_model}, ${r.machine.memory_gb} GB, Node ${r.machine.node}, ${r.machine.mosquitto}, InfluxDB ${r.machine.influxd}; load average ${r.machine.load_avg_start.map((v) => v.toFixed(2)).join(' ')} at the start, ${r.machine.load_avg_end.map((v) => v.toFixed(2)).join(' ')} at the end`,
    '',
    'Throughput (readings/s). S: published rate of the highest step kept up with — ≥ 95 % processed 200 ms after the step, drained, store holding every point; ≥: never fell behind (the publisher gave out first), S is a lower bound',
    formatColumns([
      ['system', 'S', 'at step', 'max processed/s', 'S ÷(a)', 'S ÷(b)', 'S ÷(n)'],
      ...r.systems.map((x) => [label(x), `${bound(x)}${fmt(sustained(x))}`, fmt(x.throughput.sustained_step), String(x.throughput.max_processed_per_s), ratio(sustained(x), sustained(a)), ratio(sustained(x), sustained(b)), ratio(sustained(x), sustained(n))]),
    ]),
    '',
    'Ladder (per step: msg/s, backlog after the step, store caught up, CPU µs per reading of the consumer)',
    formatColumns([
      ['system', 'offered', 'published', 'processed', 'backlog', 'store', 'CPU µs', ''],
      ...r.systems.flatMap((x) =>
        x.steps.map((st, i) => [i === 0 ? label(x) : '', String(st.offered_per_s), String(st.published_per_s), String(st.processed_per_s), String(st.backlog), st.store_kept === null ? '' : st.store_kept ? 'yes' : 'behind', fmt(st.cpu_us_per_reading, 1), st.kept ? 'kept' : 'behind']),
      ),
    ]),
    '',
    `CPU time per reading (µs, /proc/<pid>/stat utime+stime, phase start → caught up) and wake-ups of the consumer's main thread per reading (voluntary context switches) at ${s.cpuRatePerS} msg/s${common === undefined ? '' : `, and at ${common} msg/s (the highest step every system kept)`}`,
    formatColumns([
      ['system', `@${s.cpuRatePerS}/s`, '÷(a)', '÷(b)', '÷(n)', 'wake-ups/reading', `@${common ?? '—'}/s`, 'Mosquitto µs', 'influxd µs', 'caught up'],
      ...r.systems.map((x) => [
        label(x),
        fmt(cpu(x), 1),
        ratio(cpu(x), cpu(a)),
        ratio(cpu(x), cpu(b)),
        ratio(cpu(x), cpu(n)),
        x.cpu_phase.wake_ups_per_reading == null ? '—' : x.cpu_phase.wake_ups_per_reading.toFixed(3),
        fmt(stepCpu(x), 1),
        fmt(x.cpu_phase.broker_cpu_us_per_reading, 1),
        x.id === 'b' || x.id === 'd' || x.id === 'n' ? fmt(x.cpu_phase.influxd_cpu_us_per_reading, 1) : '',
        x.cpu_phase.caught_up ? 'yes' : 'no',
      ]),
    ]),
    '',
    `Latency (ms) at fractions of each system's own S: (a) publish → parsed by the subscriber; (b) publish → threshold transition seen by the script; (n) publish → transition received from Node-RED's websocket out; (c), (d) publish → alert event received on riskgate's WebSocket stream`,
    formatColumns([
      ['system', 'load', 'msg/s', 'n', 'p50', 'p95', 'p99', 'max', 'p99 ÷(b)', 'p99 ÷(n)', 'CPU µs', 'caught up'],
      ...r.systems.flatMap((x) =>
        [x.cpu_phase, ...x.latency_phases].map((p, i) => {
          const peer = (y: SystemResult | undefined): number | null | undefined => (p.fraction === null ? y?.cpu_phase : y?.latency_phases.find((q) => q.fraction === p.fraction))?.latency_ms.p99;
          const l = p.latency_ms;
          return [
            i === 0 ? label(x) : '',
            p.fraction === null ? `CPU phase` : `${Math.round(p.fraction * 100)} % S`,
            String(p.published_per_s),
            String(l.count),
            fmt(l.p50, 2),
            fmt(l.p95, 2),
            fmt(l.p99, 2),
            fmt(l.max, 2),
            ratio(l.p99, peer(b)),
            ratio(l.p99, peer(n)),
            fmt(p.cpu_us_per_reading, 1),
            p.caught_up ? 'yes' : 'no',
          ];
        }),
      ),
    ]),
  ];

  const checked = r.systems.filter((x) => x.validity !== null);
  if (checked.length > 0) {
    out.push('', 'Every reading valid for the gateway (riskgate_readings_accepted_total = published, riskgate_readings_rejected_total = 0)');
    out.push(
      formatColumns([
        ['system', 'published', 'accepted', 'rejected', ''],
        ...checked.map((x) => {
          const v = x.validity as NonNullable<SystemResult['validity']>;
          const rejected = Object.values(v.rejected).reduce((t, k) => t + k, 0);
          const reasons = Object.entries(v.rejected).map(([k, c]) => `${k} ${c}`).join(', ');
          return [label(x), String(v.published), String(v.accepted), String(rejected), v.accepted === v.published && rejected === 0 ? 'ok' : `NOT OK${reasons ? ` (${reasons})` : ''}`];
        }),
      ]),
    );
  }

  // Issue 9's targets: riskgate with InfluxDB (d) against the naive script (b) and Node-RED (n).
  const met = (v: number | null, ok: (x: number) => boolean): string => (v === null ? 'n/a' : ok(v) ? 'met' : 'not met');
  const rows: string[][] = [];
  const target = (what: string, v: number | null, shown: string, goal: string, ok: (x: number) => boolean, note = ''): void => void rows.push([what, shown, goal, met(v, ok), note]);
  const boundNote = (x: SystemResult | undefined, y: SystemResult | undefined): string =>
    [x, y]
      .filter((z): z is SystemResult => z !== undefined && !z.throughput.ceiling_reached)
      .map((z) => `(${z.id}) never fell behind: its S is a lower bound`)
      .join('; ');
  const cpuB = quotient(cpu(d), cpu(b));
  const cpuN = quotient(cpu(d), cpu(n));
  const thB = quotient(sustained(d), sustained(b));
  const thN = quotient(sustained(d), sustained(n));
  const p99 = at50(d)?.latency_ms.p99 ?? null;
  target(`CPU/reading (d) ÷ (b) @${s.cpuRatePerS}/s`, cpuB, ratio(cpu(d), cpu(b)), `≤ ×${TARGETS.cpuVsNaive}`, (v) => v <= TARGETS.cpuVsNaive);
  target(`CPU/reading (d) ÷ (n) @${s.cpuRatePerS}/s`, cpuN, ratio(cpu(d), cpu(n)), '≤ ×0.33 (1/3)', (v) => v <= TARGETS.cpuVsNodeRed, n?.cpu_phase.caught_up === false ? '(n) did not keep up with this rate' : '');
  // A lower bound (≥: the publisher gave out first) decides only one way: (d)'s S may be higher, the peer's too.
  const throughputTarget = (what: string, peer: SystemResult | undefined, v: number | null, goal: number): void => {
    const dExact = d?.throughput.ceiling_reached === true;
    const peerExact = peer?.throughput.ceiling_reached === true;
    const verdict = v === null ? 'n/a' : v >= goal ? (peerExact ? 'met' : 'undecided') : dExact ? 'not met' : 'undecided';
    rows.push([what, ratio(sustained(d), sustained(peer)), `≥ ×${goal}`, verdict, boundNote(d, peer)]);
  };
  throughputTarget('sustained (d) ÷ (b)', b, thB, TARGETS.throughputVsNaive);
  throughputTarget('sustained (d) ÷ (n)', n, thN, TARGETS.throughputVsNodeRed);
  target('(d) p99 alert latency at 50 % of its S', p99, p99 === null ? '—' : `${p99.toFixed(2)} ms`, `≤ ${TARGETS.p99At50Ms} ms`, (v) => v <= TARGETS.p99At50Ms, at50(d) ? `${at50(d)?.latency_ms.count} samples at ${at50(d)?.published_per_s}/s` : '');
  out.push('', 'Issue 9 targets — riskgate (d) against the naive pipeline (b) and Node-RED (n), this run', formatColumns([['', 'value', 'target', 'met?', 'note'], ...rows]));

  const notes: string[] = [];
  for (const x of r.systems) if (!x.cpu_phase.caught_up) notes.push(`(${x.id}) had not caught up with the CPU phase's ${s.cpuRatePerS} msg/s within the drain time: its CPU per reading there is at saturation and its latency includes queueing`);
  for (const x of r.systems) if (x.throughput.sustained_per_s === null) notes.push(`(${x.id}) kept up with no step: no latency phases`);
  for (const k of r.skipped) notes.push(`(${k.id}) skipped: ${k.reason}`);
  if (peers.length === 0 && !d) notes.push('no systems measured');
  if (notes.length > 0) out.push('', ...notes.map((t) => `note: ${t}`));
  return `${out.join('\n')}\n`;
}
