import { formatColumns } from '../../src/loadtest/report.js';
import type { MeasureSettings, StepResult, SystemResult } from './measure.js';

// The bench's results file (bench/results/latest.json) and its printed tables: each figure also as a ratio to
// (a) the bare subscriber and (b) the naive pipeline.

export const BENCH_RESULTS_FORMAT = 'riskgate-bench/1';

export interface BenchResults {
  format: typeof BENCH_RESULTS_FORMAT;
  started_at: string;
  duration_s: number;
  quick: boolean;
  machine: { cpus: number; cpu_model: string; memory_gb: number; node: string; os: string; load_avg_start: number[]; load_avg_end: number[]; mosquitto: string; influxd: string };
  settings: MeasureSettings & { payload_bytes: number };
  systems: SystemResult[];
}

const fmt = (v: number | null | undefined, decimals = 0): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(decimals));

/** `value ÷ of`, as `×1.23`; — when either is missing. */
export function ratio(value: number | null | undefined, of: number | null | undefined): string {
  if (value === null || value === undefined || of === null || of === undefined || !(of > 0)) return '—';
  return `×${(value / of).toFixed(value / of >= 10 ? 1 : 2)}`;
}

export function formatBenchTables(r: BenchResults): string {
  const by = (id: string): SystemResult | undefined => r.systems.find((x) => x.id === id);
  const a = by('a');
  const b = by('b');
  const label = (x: SystemResult): string => `(${x.id}) ${x.name}`;
  const s = r.settings;
  // The highest offered rate every system kept up with: CPU per reading is compared there (at a low rate, fixed
  // per-wake-up costs — timers, syscalls per message — dominate and flatter nobody).
  const common = s.stepRates.filter((rate) => r.systems.every((x) => x.steps.some((st) => st.offered_per_s === rate && st.kept))).at(-1);
  const cpuAt = (x: SystemResult): StepResult | undefined => x.steps.find((st) => st.offered_per_s === common) ?? x.steps.filter((st) => st.kept).at(-1) ?? x.steps.at(-1);
  const out = [
    `riskgate bench — ${s.devices} gas detectors, ${s.payload_bytes}-byte readings, QoS ${s.qos}; latency phase ${s.latencyRatePerS} msg/s × ${s.latencyMs / 1000} s; ladder ${s.stepRates.join(', ')} msg/s × ${s.stepMs / 1000} s`,
    `machine: ${r.machine.cpus} × ${r.machine.cpu_model}, ${r.machine.memory_gb} GB, Node ${r.machine.node}; load average ${r.machine.load_avg_start.map((v) => v.toFixed(2)).join(' ')} at the start, ${r.machine.load_avg_end.map((v) => v.toFixed(2)).join(' ')} at the end`,
    '',
    'Throughput (readings/s; the most processed per second in a ladder step; ≥: it never fell behind)',
    formatColumns([
      ['system', 'max/s', 'kept up to', '÷(a)', '÷(b)'],
      ...r.systems.map((x) => [label(x), `${x.throughput.ceiling_reached ? '' : '≥'}${x.throughput.max_processed_per_s}`, fmt(x.throughput.sustained_per_s), ratio(x.throughput.max_processed_per_s, a?.throughput.max_processed_per_s), ratio(x.throughput.max_processed_per_s, b?.throughput.max_processed_per_s)]),
    ]),
    '',
    `CPU time per reading of the consuming process (µs, /proc/<pid>/stat utime+stime), at the latency phase's ${s.latencyRatePerS} msg/s and at ${common === undefined ? 'the top step' : `${common} msg/s, the highest rate every system kept up with (ratios at that rate)`}`,
    formatColumns([
      ['system', `@${s.latencyRatePerS}/s`, `@${common ?? 'top'}/s`, '÷(a)', '÷(b)', 'Mosquitto µs', 'influxd µs'],
      ...r.systems.map((x) => {
        const at = cpuAt(x);
        return [
          label(x),
          fmt(x.latency_phase.cpu_us_per_reading, 1),
          fmt(at?.cpu_us_per_reading, 1),
          ratio(at?.cpu_us_per_reading, a && cpuAt(a)?.cpu_us_per_reading),
          ratio(at?.cpu_us_per_reading, b && cpuAt(b)?.cpu_us_per_reading),
          fmt(at?.broker_cpu_us_per_reading, 1),
          x.id === 'b' || x.id === 'd' ? fmt(at?.influxd_cpu_us_per_reading, 1) : '',
        ];
      }),
    ]),
    '',
    `Latency (ms): (a) publish → parsed by the subscriber (every 64th message); (b) publish → threshold crossing seen; (c), (d) publish → alert event on the WebSocket`,
    formatColumns([
      ['system', 'n', 'p50', 'p95', 'p99', 'max', 'p50 ÷(a)', 'p50 ÷(b)', 'p95 ÷(a)', 'p95 ÷(b)'],
      ...r.systems.map((x) => {
        const l = x.latency_ms;
        return [label(x), String(l.count), fmt(l.p50, 2), fmt(l.p95, 2), fmt(l.p99, 2), fmt(l.max, 2), ratio(l.p50, a?.latency_ms.p50), ratio(l.p50, b?.latency_ms.p50), ratio(l.p95, a?.latency_ms.p95), ratio(l.p95, b?.latency_ms.p95)];
      }),
    ]),
  ];
  const behind = r.systems.filter((x) => !x.latency_phase.caught_up);
  if (behind.length > 0) out.push('', `note: ${behind.map((x) => `(${x.id})`).join(', ')} had not caught up with the latency phase's rate within the drain time: its latency includes queueing`);
  return `${out.join('\n')}\n`;
}
