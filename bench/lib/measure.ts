import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { PublishLog } from '../../src/loadtest/alert-matching.js';
import { summarize, type LatencySummary } from '../../src/loadtest/percentiles.js';
import type { PlannedMessage } from '../../src/loadtest/planned-message.js';
import { newPublishProgress, publishPlanned, wallNow, type PublishProgress } from '../../src/loadtest/publisher.js';
import { SyntheticFleet } from '../../src/loadtest/synthetic-fleet.js';
import type { Consumer } from './consumers.js';
import { cpuSeconds } from './proc-stat.js';

// One system's measurement, the same for all four: warm-up, a latency phase at a rate every system sustains (alert
// latency and CPU per reading in steady state), then a ladder of offered rates until the system falls behind (the
// throughput ceiling: at a saturating step, what it processed per second is what it can do).

/** Settings of a bench run (bench/run.ts fills them from its flags). */
export interface MeasureSettings {
  qos: 0 | 1;
  devices: number;
  /** One reading in this many per device crosses the threshold (then one clears it). */
  alertEvery: number;
  warmupMs: number;
  latencyRatePerS: number;
  latencyMs: number;
  /** Offered rates of the ladder, msg/s, ascending. */
  stepRates: number[];
  stepMs: number;
  /** After the latency phase, how long to wait for the consumer to catch up, ms. */
  drainMs: number;
  maxInflight: number;
}

export interface StepResult {
  offered_per_s: number;
  published_per_s: number;
  processed_per_s: number;
  /** Published but not processed 200 ms after the step ended (since the system started). */
  backlog: number;
  /** Kept up: processed ≥ 95 % of the published rate, and the backlog under half a second's worth. */
  kept: boolean;
  cpu_us_per_reading: number | null;
  broker_cpu_us_per_reading: number | null;
  influxd_cpu_us_per_reading: number | null;
}

export interface SystemResult {
  id: string;
  name: string;
  latency_phase: {
    offered_per_s: number;
    published: number;
    processed: number;
    stored: number | null;
    caught_up: boolean;
    cpu_us_per_reading: number | null;
    broker_cpu_us_per_reading: number | null;
    influxd_cpu_us_per_reading: number | null;
  };
  latency_ms: LatencySummary & { kind: 'alert' | 'delivery'; unmatched: number };
  steps: StepResult[];
  throughput: {
    /** Highest rate it kept up with (published, which may fall short of the offered rate); null when none. */
    sustained_per_s: number | null;
    /** Most it processed per second in any step. */
    max_processed_per_s: number;
    /** It fell behind at some step. False: it kept up with every rate offered (the top step, or the most the publisher could offer), so its ceiling lies higher than measured. */
    ceiling_reached: boolean;
  };
}

/** Other processes whose CPU is attributed per reading too. */
export interface SidePids {
  broker?: number;
  influxd?: number;
}

function* tracked(it: Iterable<PlannedMessage>): Generator<PlannedMessage> {
  for (const m of it) yield { ...m, track: true };
}

const perReadingUs = (cpuS: number | undefined, cpu0: number | undefined, readings: number): number | null =>
  cpuS !== undefined && cpu0 !== undefined && readings > 0 ? Math.round(((cpuS - cpu0) / readings) * 1e6 * 10) / 10 : null;

/** Runs the phases against a started consumer; `log` gets a line per phase. */
export async function measureSystem(c: Consumer, client: MqttClient, s: MeasureSettings, side: SidePids, log: (line: string) => void): Promise<SystemResult> {
  const fleet = new SyntheticFleet({ devices: s.devices, alertEvery: s.alertEvery });
  const pubLog = new PublishLog();
  const progress: PublishProgress = newPublishProgress();
  const play = (rate: number, ms: number, track: boolean): Promise<PublishProgress> => {
    const msgs = fleet.messages(wallNow() + 20, rate, ms);
    return publishPlanned(track ? tracked(msgs) : msgs, { client, qos: s.qos, maxInflight: s.maxInflight, log: pubLog, progress });
  };
  const catchUp = async (timeoutMs: number): Promise<boolean> => {
    const deadline = wallNow() + timeoutMs;
    while (wallNow() < deadline) {
      if ((await c.processed()).count >= progress.readings) return true;
      await sleep(100);
    }
    return false;
  };
  /** CPU seconds of the consumer, the broker and influxd now. */
  const cpuNow = (): { own?: number; broker?: number; influxd?: number } => ({
    own: cpuSeconds(c.pid),
    broker: side.broker === undefined ? undefined : cpuSeconds(side.broker),
    influxd: side.influxd === undefined ? undefined : cpuSeconds(side.influxd),
  });
  const cpuPerReading = (from: ReturnType<typeof cpuNow>, readings: number) => {
    const to = cpuNow();
    return {
      cpu_us_per_reading: perReadingUs(to.own, from.own, readings),
      broker_cpu_us_per_reading: perReadingUs(to.broker, from.broker, readings),
      influxd_cpu_us_per_reading: perReadingUs(to.influxd, from.influxd, readings),
    };
  };

  await play(s.latencyRatePerS, s.warmupMs, false);
  await catchUp(s.drainMs);

  // Latency phase: every reading tracked, so (a)'s delivery samples match too.
  const t0 = wallNow();
  const p0 = (await c.processed()).count;
  const pub0 = progress.readings;
  const cpu0 = cpuNow();
  await play(s.latencyRatePerS, s.latencyMs, true);
  const caughtUp = await catchUp(s.drainMs);
  const n = (await c.processed()).count - p0;
  const cpu = cpuPerReading(cpu0, n);
  // Alerts of the last readings are a few ms behind their processing.
  await sleep(300);
  const latencies: number[] = [];
  let unmatched = 0;
  for (const o of c.observations()) {
    if (o.atMs < t0) continue;
    const at = pubLog.publishedAt(o.tenant, o.deviceId, o.ts);
    if (at === undefined) unmatched++;
    else latencies.push(o.atMs - at);
  }
  const lat = summarize(latencies);
  const latencyPhase: SystemResult['latency_phase'] = {
    offered_per_s: s.latencyRatePerS,
    published: progress.readings - pub0,
    processed: n,
    stored: (await c.stored()) ?? null,
    caught_up: caughtUp,
    ...cpu,
  };
  log(`  latency phase: ${n} readings at ${s.latencyRatePerS}/s, ${lat.count} ${c.latencyKind} samples, p50 ${lat.p50?.toFixed(2)} ms, CPU ${latencyPhase.cpu_us_per_reading} µs/reading`);

  // Throughput ladder.
  const steps: StepResult[] = [];
  for (const rate of s.stepRates) {
    const a = wallNow();
    const q0 = await c.processed();
    const m0 = progress.readings;
    const c0 = cpuNow();
    await play(rate, s.stepMs, false);
    const b = wallNow();
    const q1 = await c.processed();
    const stepCpu = cpuPerReading(c0, q1.count - q0.count);
    // A child's count is up to 100 ms old: its rate is over its own timestamps, its backlog read after a settle.
    await sleep(200);
    const published_per_s = Math.round((progress.readings - m0) / ((b - a) / 1000));
    const processed_per_s = q1.atMs > q0.atMs ? Math.round((q1.count - q0.count) / ((q1.atMs - q0.atMs) / 1000)) : 0;
    const backlog = progress.readings - (await c.processed()).count;
    const step: StepResult = {
      offered_per_s: rate,
      published_per_s,
      processed_per_s,
      backlog,
      kept: processed_per_s >= 0.95 * published_per_s && backlog <= Math.max(200, published_per_s / 2),
      ...stepCpu,
    };
    steps.push(step);
    log(`  step ${rate}/s: published ${step.published_per_s}/s, processed ${step.processed_per_s}/s, backlog ${step.backlog}, CPU ${step.cpu_us_per_reading} µs/reading${step.kept ? '' : ' — behind'}`);
    // Fell behind, or the publisher itself could not offer this rate (it shares the cores): no point going higher.
    if (!step.kept || step.published_per_s < 0.9 * rate) break;
    // Let a backlog from this step drain before the next, so each step starts level.
    await catchUp(s.drainMs);
  }
  const kept = steps.filter((x) => x.kept);
  return {
    id: c.id,
    name: c.name,
    latency_phase: latencyPhase,
    latency_ms: { ...lat, kind: c.latencyKind, unmatched },
    steps,
    throughput: {
      sustained_per_s: kept.length > 0 ? (kept[kept.length - 1] as StepResult).published_per_s : null,
      max_processed_per_s: Math.max(0, ...steps.map((x) => x.processed_per_s)),
      ceiling_reached: steps.some((x) => !x.kept),
    },
  };
}
