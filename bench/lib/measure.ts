import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { PublishLog } from '../../src/loadtest/alert-matching.js';
import { summarize, type LatencySummary } from '../../src/loadtest/percentiles.js';
import type { PlannedMessage } from '../../src/loadtest/planned-message.js';
import { newPublishProgress, publishPlanned, wallNow, type PublishProgress } from '../../src/loadtest/publisher.js';
import type { Consumer } from './consumers.js';
import { cpuSeconds, mainThreadWakeUps } from './proc-stat.js';
import type { CityReplay } from './replay.js';

// One system's measurement, the same for every system (bench/run.ts header has the method):
//   1. warm-up;
//   2. CPU phase at a fixed rate every system should sustain (`cpuRatePerS`): CPU per reading in steady state;
//   3. ladder of offered rates until the system falls behind (a backlog over 5 % of the step 200 ms after it, not
//      drained, or its store not holding every processed point soon after) or the publisher cannot offer the rate:
//      its sustained rate S is the published rate of the highest step it kept;
//   4. latency phases at fractions of S (25/50/75/90 %): publish → alert p50/p95/p99/max at each.

/** Settings of a bench run (bench/run.ts fills them from its flags). */
export interface MeasureSettings {
  qos: 0 | 1;
  devices: number;
  /** One gas reading in this many per device crosses the threshold (then one clears it). */
  alertEvery: number;
  warmupRatePerS: number;
  /** Warm-up duration, ms; longer when 1.2 passes over the devices at the warm-up rate take longer. */
  warmupMs: number;
  /** The fixed rate of the CPU phase, msg/s. */
  cpuRatePerS: number;
  cpuMs: number;
  /** Offered rates of the ladder, msg/s, ascending. */
  stepRates: number[];
  stepMs: number;
  /** Fractions of the sustained rate the latency phases run at. */
  latencyFractions: number[];
  latencyMs: number;
  /** How long to wait for the consumer to process what was published, ms. */
  drainMs: number;
  /** After that, how long its store may take to hold every processed reading, ms (flushes are every 1 s). */
  storeDrainMs: number;
  maxInflight: number;
}

/** CPU time per reading of the consumer, Mosquitto and influxd over a phase, µs. */
export interface CpuPerReading {
  cpu_us_per_reading: number | null;
  broker_cpu_us_per_reading: number | null;
  influxd_cpu_us_per_reading: number | null;
  /** Wake-ups of the consumer's main thread per reading (voluntary context switches; absent in older results). */
  wake_ups_per_reading?: number | null;
}

export interface StepResult extends CpuPerReading {
  offered_per_s: number;
  published_per_s: number;
  processed_per_s: number;
  /** Published but not processed 200 ms after the step ended (since the system started). */
  backlog: number;
  /** Processed everything within the drain time after the step. */
  drained: boolean;
  /** Stored points reached processed within the store drain time after that; null: no store. */
  store_kept: boolean | null;
  /** Kept up: a backlog 200 ms after the step of at most 5 % of what the step published, drained, and its store kept up. */
  kept: boolean;
}

export interface LatencyPhase extends CpuPerReading {
  /** Fraction of the sustained rate; null for the CPU phase. */
  fraction: number | null;
  offered_per_s: number;
  published_per_s: number;
  published: number;
  processed: number;
  caught_up: boolean;
  latency_ms: LatencySummary & { unmatched: number };
}

export interface SystemResult {
  id: string;
  name: string;
  latency_kind: 'alert' | 'delivery';
  /** The fixed-rate phase: CPU per reading where every system is compared (and its latency there). */
  cpu_phase: LatencyPhase;
  steps: StepResult[];
  throughput: {
    /** Published rate of the highest step it kept up with; null when none. */
    sustained_per_s: number | null;
    /** Offered rate of that step. */
    sustained_step: number | null;
    /** Most it processed per second in any step. */
    max_processed_per_s: number;
    /** It fell behind at some step. False: it kept up with every rate offered (the top step, or the most the publisher could offer), so S is a lower bound. */
    ceiling_reached: boolean;
  };
  latency_phases: LatencyPhase[];
  /** riskgate: readings published to it, accepted, and rejected by reason (every reading must be accepted). */
  validity: { published: number; accepted: number; rejected: Record<string, number> } | null;
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
export async function measureSystem(c: Consumer, client: MqttClient, replay: CityReplay, s: MeasureSettings, side: SidePids, log: (line: string) => void): Promise<SystemResult> {
  replay.reset();
  const pubLog = new PublishLog();
  const progress: PublishProgress = newPublishProgress();
  const play = (rate: number, ms: number, trackAll: boolean): Promise<PublishProgress> => {
    const msgs = replay.messages(wallNow() + 20, rate, ms);
    return publishPlanned(trackAll ? tracked(msgs) : msgs, { client, qos: s.qos, maxInflight: s.maxInflight, log: pubLog, progress });
  };
  const catchUp = async (timeoutMs: number): Promise<boolean> => {
    const deadline = wallNow() + timeoutMs;
    while (wallNow() < deadline) {
      if ((await c.processed()).count >= progress.readings) return true;
      await sleep(100);
    }
    return false;
  };
  const storeCatchUp = async (timeoutMs: number): Promise<boolean | null> => {
    if ((await c.stored()) === undefined) return null;
    const target = (await c.processed()).count;
    const deadline = wallNow() + timeoutMs;
    while (wallNow() < deadline) {
      if (((await c.stored()) ?? 0) >= target) return true;
      await sleep(100);
    }
    return false;
  };
  /** CPU seconds of the consumer, the broker and influxd now. */
  const cpuNow = (): { own?: number; wakeUps?: number; broker?: number; influxd?: number } => ({
    own: cpuSeconds(c.pid),
    wakeUps: mainThreadWakeUps(c.pid),
    broker: side.broker === undefined ? undefined : cpuSeconds(side.broker),
    influxd: side.influxd === undefined ? undefined : cpuSeconds(side.influxd),
  });
  const cpuPerReading = (from: ReturnType<typeof cpuNow>, readings: number): CpuPerReading => {
    const to = cpuNow();
    return {
      cpu_us_per_reading: perReadingUs(to.own, from.own, readings),
      broker_cpu_us_per_reading: perReadingUs(to.broker, from.broker, readings),
      influxd_cpu_us_per_reading: perReadingUs(to.influxd, from.influxd, readings),
      wake_ups_per_reading: to.wakeUps !== undefined && from.wakeUps !== undefined && readings > 0 ? Math.round(((to.wakeUps - from.wakeUps) / readings) * 1000) / 1000 : null,
    };
  };
  /** A phase at a steady rate: CPU per reading up to when it has caught up, latency of what it observed meanwhile. */
  const steady = async (fraction: number | null, rate: number): Promise<LatencyPhase> => {
    const ms = fraction === null ? s.cpuMs : s.latencyMs;
    const t0 = wallNow();
    const p0 = (await c.processed()).count;
    const pub0 = progress.readings;
    const cpu0 = cpuNow();
    // (a) observes deliveries of any message: every one is logged then; the others' alerts come from tracked crossings.
    await play(rate, ms, c.latencyKind === 'delivery');
    const t1 = wallNow();
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
      else if (at >= t0) latencies.push(o.atMs - at);
    }
    const published = progress.readings - pub0;
    const phase: LatencyPhase = {
      fraction,
      offered_per_s: Math.round(rate),
      published_per_s: Math.round(published / ((t1 - t0) / 1000)),
      published,
      processed: n,
      caught_up: caughtUp,
      ...cpu,
      latency_ms: { ...summarize(latencies), unmatched },
    };
    const l = phase.latency_ms;
    log(
      `  ${fraction === null ? 'CPU phase' : `latency ${Math.round(fraction * 100)} % S`} @${phase.offered_per_s}/s: published ${phase.published_per_s}/s, ${l.count} ${c.latencyKind} samples, ` +
        `p50 ${l.p50?.toFixed(1)} p99 ${l.p99?.toFixed(1)} ms, CPU ${phase.cpu_us_per_reading} µs and ${phase.wake_ups_per_reading ?? '—'} wake-ups a reading${caughtUp ? '' : ' — did not catch up'}`,
    );
    return phase;
  };

  // Warm-up: at least 1.2 passes over the devices, so every one has been seen (first-reading costs — registry,
  // per-device state — stay out of the CPU phase) and the processes' code is optimised.
  await play(s.warmupRatePerS, Math.max(s.warmupMs, ((1.2 * s.devices) / s.warmupRatePerS) * 1000), false);
  await catchUp(s.drainMs);
  await storeCatchUp(s.storeDrainMs);

  const cpuPhase = await steady(null, s.cpuRatePerS);
  await storeCatchUp(s.storeDrainMs);

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
    // Kept pace: by 200 ms after the step it had processed ≥ 95 % of what the step published (on top of what came
    // before). Judged on counts, not on processed_per_s: a busy process answers its count late, which biases that rate
    // low by a few per cent without anything being behind.
    const keptPace = backlog <= Math.max(200, 0.05 * (progress.readings - m0));
    // Let the backlog drain before the next step, so each starts level; then the store must hold all of it.
    const drained = await catchUp(keptPace ? s.drainMs : Math.min(s.drainMs, 5_000));
    const storeKept = drained ? await storeCatchUp(s.storeDrainMs) : (await c.stored()) === undefined ? null : false;
    const step: StepResult = { offered_per_s: rate, published_per_s, processed_per_s, backlog, drained, store_kept: storeKept, kept: keptPace && drained && storeKept !== false, ...stepCpu };
    steps.push(step);
    log(
      `  step ${rate}/s: published ${step.published_per_s}/s, processed ${step.processed_per_s}/s, backlog ${step.backlog}, CPU ${step.cpu_us_per_reading} µs/reading` +
        `${storeKept === false ? ', store behind' : ''}${step.kept ? '' : ' — behind'}`,
    );
    // Fell behind, or the publisher itself could not offer this rate (it shares the cores): no point going higher.
    if (!step.kept || step.published_per_s < 0.9 * rate) break;
  }
  // A backlog of the step where it fell behind must be gone before latency is measured.
  await catchUp(s.drainMs);
  await storeCatchUp(s.storeDrainMs);
  const kept = steps.filter((x) => x.kept).at(-1);

  const latencyPhases: LatencyPhase[] = [];
  if (kept) for (const f of s.latencyFractions) latencyPhases.push(await steady(f, f * kept.published_per_s));

  const v = await c.rejected();
  return {
    id: c.id,
    name: c.name,
    latency_kind: c.latencyKind,
    cpu_phase: cpuPhase,
    steps,
    throughput: {
      sustained_per_s: kept?.published_per_s ?? null,
      sustained_step: kept?.offered_per_s ?? null,
      max_processed_per_s: Math.max(0, ...steps.map((x) => x.processed_per_s)),
      ceiling_reached: steps.some((x) => !x.kept),
    },
    latency_phases: latencyPhases,
    validity: v === undefined ? null : { published: progress.readings, accepted: v.accepted, rejected: v.rejected },
  };
}
