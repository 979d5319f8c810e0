import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import type { Capture } from '../capture/capture-format.js';
import type { Scenario } from '../sim/scenario/index.js';
import { PublishLog } from './alert-matching.js';
import { checkExpected, scenarioExpectations, type ExpectationCheck, type ExpectedAlert } from './expected-alerts.js';
import { countersDelta, scrapeGateway, totalRejected } from './gateway-metrics.js';
import { MetricsSampler } from './metrics-sampler.js';
import { mergeBySendTime, type PlannedMessage } from './planned-message.js';
import { newPublishProgress, publishPlanned, wallNow } from './publisher.js';
import { buildReport, type LoadtestReport } from './report.js';
import { AlertStreamListener } from './stream-listener.js';
import type { SyntheticFleet } from './synthetic-fleet.js';
import { capturePlan, scenarioPlan, type Pace } from './workload.js';

// `riskgate loadtest`: plays a capture, a scenario and/or a generated fleet through a broker into a running gateway,
// listens on its alert stream, scrapes its /metrics, and reports rates, latencies, rejects and expected alerts.
// Steps: rules (to tell time-driven expectations apart) → stream → baseline scrape → publish → drain → settle.

/** Options of {@link runLoadtest}. */
export interface LoadtestOptions {
  /** Gateway base URL (`http://host:8080`): /metrics, /api/v1/rules and the stream. */
  gatewayUrl: string;
  /** A user token (admin or operator) for the stream and the rules. */
  token: string;
  /** Broker the gateway ingests from (`mqtt://host:1883`). */
  brokerUrl: string;
  username?: string;
  password?: string;
  /** Default `rg-loadtest-<random>`. */
  clientId?: string;
  /** Default 1 (the wire contract). */
  qos?: 0 | 1;
  /** QoS 1 messages awaiting PUBACK at once. Default 1000. */
  maxInflight?: number;
  capture?: { capture: Capture; pace: Pace; label: string; expectations?: ExpectedAlert[] };
  scenario?: { scenario: Scenario; speed: number; seed?: number };
  /** A generated fleet at `ratePerS`; for `durationMs`, default as long as the capture / scenario plays (else 10 s). */
  fleet?: { fleet: SyntheticFleet; ratePerS: number; durationMs?: number };
  /** After the last publication, how long to wait for the gateway to account for every reading, ms. Default 30 000. */
  drainTimeoutMs?: number;
  /** Then, how long to wait for expected alerts still missing, ms. Default 3000. */
  settleMs?: number;
  /** Scrape interval, ms. Default 1000. */
  sampleIntervalMs?: number;
  /** Progress lines (every 5 s while publishing). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export const DEFAULT_LOADTEST_OPTIONS = { qos: 1, maxInflight: 1000, drainTimeoutMs: 30_000, settleMs: 3_000, sampleIntervalMs: 1_000 } as const;

/** Time between building the plan and its first due message, ms (the plan's device times are computed from it). */
const LEAD_MS = 300;

/** Ids of the gateway's rules of type `offline` (time-driven); undefined when the rules cannot be read. */
async function offlineRuleIds(gatewayUrl: string, token: string): Promise<Set<string> | undefined> {
  try {
    const res = await fetch(new URL('/api/v1/rules', gatewayUrl), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { rules?: { id: string; type: string }[] };
    return new Set((body.rules ?? []).filter((r) => r.type === 'offline').map((r) => r.id));
  } catch {
    return undefined;
  }
}

function paceText(p: Pace): string {
  return 'ratePerS' in p ? `${p.ratePerS} msg/s` : Number.isFinite(p.speed) ? `×${+p.speed.toFixed(2)}` : 'max speed';
}

export async function runLoadtest(opts: LoadtestOptions): Promise<LoadtestReport> {
  const o = { ...DEFAULT_LOADTEST_OPTIONS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as LoadtestOptions & typeof DEFAULT_LOADTEST_OPTIONS;
  if (!o.capture && !o.scenario && !o.fleet) throw new Error('nothing to play: give a capture, a scenario or a fleet');
  const log = o.log ?? (() => undefined);

  const offline = o.scenario ? await offlineRuleIds(o.gatewayUrl, o.token) : undefined;
  const stream = new AlertStreamListener({ gatewayUrl: o.gatewayUrl, token: o.token });
  await stream.start();
  const progress = newPublishProgress();
  const sampler = new MetricsSampler(o.gatewayUrl, progress, o.sampleIntervalMs);
  const client = await mqtt.connectAsync(
    o.brokerUrl,
    { clientId: o.clientId ?? `rg-loadtest-${Math.random().toString(36).slice(2, 10)}`, username: o.username, password: o.password, clean: true, connectTimeout: 10_000, reconnectPeriod: 0 },
    false,
  );
  let ticker: ReturnType<typeof setInterval> | undefined;
  try {
    const base = await sampler.start();
    const startMs = wallNow() + LEAD_MS;
    const plans: Iterable<PlannedMessage>[] = [];
    const workload: string[] = [];
    let planned = 0;
    let lastDue = startMs;
    const addPlan = (list: PlannedMessage[]): void => {
      plans.push(list);
      planned += list.length;
      lastDue = Math.max(lastDue, list[list.length - 1]?.sendAtMs ?? startMs);
    };
    if (o.capture) {
      addPlan(capturePlan(o.capture.capture, startMs, o.capture.pace));
      workload.push(`capture ${o.capture.label} (${o.capture.capture.messages.length} messages, ${paceText(o.capture.pace)})`);
    }
    if (o.scenario) {
      const list = scenarioPlan(o.scenario.scenario, startMs, o.scenario.speed, o.scenario.seed);
      addPlan(list);
      workload.push(`scenario ${o.scenario.scenario.name} (${list.length} messages, ${paceText({ speed: o.scenario.speed })})`);
    }
    if (o.fleet) {
      const durationMs = o.fleet.durationMs ?? (plans.length > 0 ? Math.max(1_000, lastDue - startMs) : 10_000);
      const f = o.fleet.fleet;
      plans.push(f.messages(startMs, o.fleet.ratePerS, durationMs));
      planned += Math.floor((durationMs * o.fleet.ratePerS) / 1000);
      lastDue = Math.max(lastDue, startMs + durationMs);
      workload.push(`fleet of ${f.deviceIds.length} gas detectors (${f.tenant}) at ${o.fleet.ratePerS} msg/s for ${+(durationMs / 1000).toFixed(1)} s`);
    }
    const spanS = (lastDue - startMs) / 1000;
    const offeredRatePerS = spanS >= 1 ? Math.round((planned / spanS) * 10) / 10 : null;
    log(`publishing ${planned} messages over ${spanS.toFixed(1)} s: ${workload.join('; ')}`);

    ticker = setInterval(() => {
      const s = sampler.samples.at(-1);
      const d = s ? countersDelta(base.counters, s.counters) : undefined;
      log(`  ${((wallNow() - startMs) / 1000).toFixed(0)} s: published ${progress.messages}/${planned}, accepted ${d?.accepted ?? '?'}, stored ${d?.stored ?? '?'}, alerts ${stream.received.length}`);
    }, 5_000);
    const log0 = new PublishLog();
    await publishPlanned(mergeBySendTime(...plans), { client, qos: o.qos, maxInflight: o.maxInflight, log: log0, progress, signal: o.signal });
    clearInterval(ticker);
    ticker = undefined;

    const expected: ExpectedAlert[] = [...(o.capture?.expectations ?? [])];
    let skipped: ExpectationCheck['skipped'] = [];
    if (o.scenario) {
      const x = scenarioExpectations(o.scenario.scenario, offline);
      expected.push(...x.expected);
      skipped = x.skipped;
    }
    if (o.fleet) expected.push(...o.fleet.fleet.expected);

    // Drain: until every published reading is accepted or rejected and every accepted one stored.
    const drainDeadline = wallNow() + o.drainTimeoutMs;
    log(`published ${progress.messages} messages (${progress.readings} readings); waiting for the gateway`);
    for (;;) {
      o.signal?.throwIfAborted();
      const c = countersDelta(base.counters, await scrapeGateway(o.gatewayUrl).catch(() => base.counters));
      if ((c.accepted + totalRejected(c) >= progress.readings && c.stored >= c.accepted) || wallNow() > drainDeadline) break;
      await sleep(200);
    }
    // Settle: the alerts of the last readings are on their way.
    const settleDeadline = wallNow() + (expected.length > 0 ? o.settleMs : Math.min(o.settleMs, 500));
    while (wallNow() < settleDeadline) {
      if (expected.length > 0 && checkExpected(expected, stream.received).missing.length === 0) break;
      await sleep(100);
    }
    await sampler.sampleNow();
    await sampler.stop();
    const endedAtMs = wallNow();
    return buildReport({
      startedAtMs: startMs,
      endedAtMs,
      gatewayUrl: o.gatewayUrl,
      brokerUrl: o.brokerUrl,
      qos: o.qos,
      workload,
      offeredRatePerS,
      progress,
      samples: sampler.samples,
      received: stream.received,
      log: log0,
      expectations: expected.length > 0 || skipped.length > 0 ? checkExpected(expected, stream.received, skipped) : null,
      streamClosedEarly: stream.closedEarly,
    });
  } finally {
    if (ticker) clearInterval(ticker);
    await sampler.stop();
    await stream.stop();
    await client.endAsync(true);
  }
}
