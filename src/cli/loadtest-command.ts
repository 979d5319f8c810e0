import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCapture } from '../capture/capture-format.js';
import { parseSpeed } from '../capture/replay.js';
import { cliEnv } from '../config/env.js';
import { formatYamlProblem } from '../config/yaml-file.js';
import { parseDurationMs } from '../lib/duration.js';
import { renderChartSvg } from '../loadtest/chart-svg.js';
import { readExpectationsFile } from '../loadtest/expected-alerts.js';
import { formatReportTable } from '../loadtest/report.js';
import { runLoadtest, type LoadtestOptions } from '../loadtest/run-loadtest.js';
import { loadtestSeed } from '../loadtest/seed-file.js';
import { SyntheticFleet } from '../loadtest/synthetic-fleet.js';
import { scenarioSpeedFor, type Pace } from '../loadtest/workload.js';
import { loadScenarioFile, type Scenario } from '../sim/scenario/index.js';

export const LOADTEST_USAGE = `riskgate loadtest --gateway http://host:8080 --token T --broker mqtt://host:1883  WORKLOAD  [options]

  WORKLOAD, one or more of:
    --capture C.jsonl.gz [--speed max|10x | --rate N] [--expect F]
                          replay a capture (device times rebased to now); --expect: alerts it must raise
                          (YAML/JSON: expect: [{device: tenant/id, event: raised, rule: gas.lel, level: 3}, …])
    --scenario NAME|FILE [--speed 60x|max] [--seed N]
                          an incident of devices/scenarios/ compressed into --duration (default 60s);
                          its expect list is checked, time-driven events (escalated, offline) excepted
    --devices N [--rate N | --fleet-rate N] [--alert-every 500]
                          N generated gas detectors, ~200-byte readings at N msg/s for --duration (default: as long
                          as the capture / scenario, else 10s); one reading in --alert-every crosses gas.lel
  options:
    --duration D          scenario and fleet length (30s, 2m)
    --qos 0|1             default 1        --max-inflight N   QoS 1 messages awaiting PUBACK, default 1000
    --drain D             wait this long at most for the gateway to account for every reading (default 30s)
    --out report.json     write the report; the chart goes beside it (report.svg) unless --chart F.svg
    --write-seed F        only write the REGISTRY_SEED of the workload's devices, then exit
    --username U --password P   broker login
  riskgate loadtest --jt808 --terminals N [--host H] [--port 7611] [--interval 10s] [--duration 60s]
                          N JT/T 808 terminals (src/loadtest/jt808-load.ts)

  Start the gateway with the seed and, for compressed time, RULE_HISTORY_CUTOFF_MS ≥ the workload's span,
  ALERT_FLAP_FLIPS=1000000 and INGEST_MAX_MESSAGES_PER_DEVICE_PER_S high enough (docs/performance.md).
  Token: --token or RG_TOKEN. Exit 0 when every reading was accounted for and every expected alert arrived.
`;

interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

const OPTIONS = {
  gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
  token: { type: 'string' },
  broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
  username: { type: 'string' },
  password: { type: 'string' },
  capture: { type: 'string' },
  scenario: { type: 'string' },
  devices: { type: 'string' },
  speed: { type: 'string' },
  rate: { type: 'string' },
  'fleet-rate': { type: 'string' },
  'alert-every': { type: 'string', default: '500' },
  seed: { type: 'string' },
  expect: { type: 'string' },
  duration: { type: 'string' },
  qos: { type: 'string', default: '1' },
  'max-inflight': { type: 'string', default: '1000' },
  drain: { type: 'string', default: '30s' },
  out: { type: 'string' },
  chart: { type: 'string' },
  'write-seed': { type: 'string' },
  jt808: { type: 'boolean', default: false },
  terminals: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '7611' },
  interval: { type: 'string', default: '10s' },
} as const;

class UsageError extends Error {}

function positive(name: string, v: string | undefined, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a ${integer ? 'whole ' : ''}number > 0 (got "${v}")`);
  return n;
}

function duration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDurationMs(v);
  if (ms === undefined || ms <= 0) throw new UsageError(`--${name} must be a duration such as 30s, 2m (got "${v}")`);
  return ms;
}

/** A scenario file, or the name of one in devices/scenarios/. */
function loadScenario(ref: string): Scenario {
  const path = existsSync(ref) ? ref : join('devices/scenarios', `${ref}.yaml`);
  if (!existsSync(path)) throw new UsageError(`no scenario ${ref} (neither a file nor devices/scenarios/${ref}.yaml)`);
  const res = loadScenarioFile(path);
  if (!res.ok) throw new Error(`invalid scenario:\n${res.problems.map(formatYamlProblem).join('\n')}`);
  return res.value;
}

/** The shape of src/loadtest/jt808-load.ts this command uses (another module; it may be absent from a build). */
interface Jt808LoadModule {
  runJt808Load(o: { host: string; port: number; terminals: number; intervalMs?: number; durationMs?: number; log?: (l: string) => void; signal?: AbortSignal }): Promise<{ errors: number; locationsSent: number; locationsAcked: number }>;
  formatJt808LoadResult?(r: unknown): string;
}

async function runJt808(values: Record<string, string | boolean | undefined>, io: Io): Promise<number> {
  let mod: Jt808LoadModule;
  try {
    // A computed specifier: the module belongs to the JT/T 808 load generator and may not be there.
    const spec = '../loadtest/jt808-load.js';
    mod = (await import(spec)) as Jt808LoadModule;
  } catch {
    io.stderr('riskgate loadtest --jt808: the JT/T 808 load generator (src/loadtest/jt808-load.ts) is not available in this build\n');
    return 2;
  }
  const terminals = positive('terminals', values.terminals as string | undefined);
  if (terminals === undefined) throw new UsageError('--jt808 needs --terminals N');
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  try {
    const r = await mod.runJt808Load({
      host: values.host as string,
      port: positive('port', values.port as string) as number,
      terminals,
      intervalMs: duration('interval', values.interval as string),
      durationMs: duration('duration', (values.duration as string | undefined) ?? '60s'),
      log: (line) => io.stderr(`${line}\n`),
      signal: ac.signal,
    });
    io.stdout(mod.formatJt808LoadResult ? mod.formatJt808LoadResult(r) : `${JSON.stringify(r, null, 2)}\n`);
    return r.errors === 0 && r.locationsAcked === r.locationsSent ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** `riskgate loadtest …`: returns the exit code. */
export async function runLoadtestCli(argv: string[], io: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }): Promise<number> {
  try {
    return await loadtest(argv, io);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${(err as Error).message}\n\n${LOADTEST_USAGE}`);
      return 2;
    }
    throw err;
  }
}

async function loadtest(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.jt808) return runJt808(values, io);

  const capture = values.capture === undefined ? undefined : readCapture(values.capture);
  const scenario = values.scenario === undefined ? undefined : loadScenario(values.scenario);
  const devices = positive('devices', values.devices);
  if (!capture && !scenario && devices === undefined) throw new UsageError('give a workload: --capture, --scenario and/or --devices');
  const durationMs = duration('duration', values.duration);
  const rate = positive('rate', values.rate, false);
  const fleetRate = positive('fleet-rate', values['fleet-rate'], false) ?? (capture ? undefined : rate);
  if (devices !== undefined && fleetRate === undefined) throw new UsageError('a fleet needs --rate (or --fleet-rate with --capture)');
  const speed = values.speed === undefined ? undefined : parseSpeed(values.speed);
  if (values.speed !== undefined && speed === undefined) throw new UsageError(`--speed must be like 10x, 0.5x or max (got "${values.speed}")`);
  if (capture && scenario && speed !== undefined) throw new UsageError('--speed is ambiguous with both --capture and --scenario');
  const fleet = devices === undefined ? undefined : new SyntheticFleet({ devices, alertEvery: Number(values['alert-every']) });

  if (values['write-seed']) {
    const seed = loadtestSeed({ capture, scenario, fleet });
    writeFileSync(values['write-seed'], `${JSON.stringify(seed, null, 2)}\n`);
    io.stdout(`wrote ${seed.devices.length} devices to ${values['write-seed']} (start the gateway with REGISTRY_SEED=${values['write-seed']})\n`);
    return 0;
  }
  const token = values.token ?? cliEnv().RG_TOKEN;
  if (!token) throw new UsageError('a token is required: --token or RG_TOKEN');
  const qos = values.qos === '0' ? 0 : values.qos === '1' ? 1 : undefined;
  if (qos === undefined) throw new UsageError(`--qos must be 0 or 1 (got "${values.qos}")`);
  const capturePace: Pace = rate !== undefined ? { ratePerS: rate } : { speed: speed ?? Infinity };
  const scenarioSpeed = scenario ? (speed ?? scenarioSpeedFor(scenario, durationMs ?? 60_000)) : undefined;

  const opts: LoadtestOptions = {
    gatewayUrl: values.gateway,
    token,
    brokerUrl: values.broker,
    username: values.username,
    password: values.password,
    qos,
    maxInflight: positive('max-inflight', values['max-inflight']),
    drainTimeoutMs: duration('drain', values.drain),
    capture: capture && values.capture ? { capture, pace: capturePace, label: values.capture, expectations: values.expect ? readExpectationsFile(values.expect) : undefined } : undefined,
    scenario: scenario && scenarioSpeed !== undefined ? { scenario, speed: scenarioSpeed, seed: positive('seed', values.seed) } : undefined,
    fleet: fleet && fleetRate !== undefined ? { fleet, ratePerS: fleetRate, durationMs: capture || scenario ? undefined : (durationMs ?? 10_000) } : undefined,
    log: (line) => io.stderr(`${line}\n`),
  };
  if (opts.fleet && durationMs !== undefined) opts.fleet.durationMs = durationMs;
  const ac = new AbortController();
  const onSignal = (): void => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  let report;
  try {
    report = await runLoadtest({ ...opts, signal: ac.signal });
  } finally {
    process.off('SIGINT', onSignal);
  }
  io.stdout(formatReportTable(report));
  if (values.out) {
    writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
    io.stdout(`report → ${values.out}\n`);
  }
  const chart = values.chart ?? (values.out ? values.out.replace(/(\.json)?$/, '.svg') : undefined);
  if (chart) {
    writeFileSync(chart, renderChartSvg(report));
    io.stdout(`chart → ${chart}\n`);
  }
  const ok = report.published.errors === 0 && report.gateway.all_accounted && report.alerts.all_arrived !== false && !report.alerts.stream_closed_early;
  return ok ? 0 : 1;
}
