import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatYamlProblem } from '../config/yaml-file.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { parseDurationMs } from '../lib/duration.js';
import { parseCredentials } from '../sim/credentials-file.js';
import { loadSimFleet } from '../sim/fleet-file.js';
import { DEFAULT_MODELS_DIR, loadModels } from '../sim/models.js';
import { MqttTransport, type MqttLogin } from '../sim/mqtt-transport.js';
import { ProgressDisplay } from '../sim/progress.js';
import { findScenarioLoader, type LoadScenario, type Scenario } from '../sim/scenario-hook.js';
import { formatJt808Differences, loadScenarioFile, playScenario, ScenarioJt808Terminals, scenarioJt808AssignedPhones, scenarioMessages, scenarioSteps, startNear, type ScenarioMessage } from '../sim/scenario/index.js';
import mqtt from 'mqtt';
import { FleetSchedule } from '../sim/schedule.js';
import { scenarioDevice } from '../sim/sim-device.js';
import { SimStats } from '../sim/sim-stats.js';
import { Simulation } from '../sim/simulation.js';

export const SIMULATE_USAGE = `riskgate simulate --fleet F [--broker mqtt://127.0.0.1:1883] [--rate N] [--seed N] [--duration D]
    [--scenario S] [--models DIR] [--start TIME] [--username U (--password P | --password-file F) | --credentials-file F]
    [--connections N] [--max-in-flight N] [--dry-run]
riskgate simulate --scenario devices/scenarios/S.yaml [--broker URL] [--seed N] [--start TIME] [--speed N] [--username U --password P]
    [--jt808 HOST:PORT]
  Plays an incident scenario's own devices and timeline (QoS 1) and lists the alert events it must produce.
  --jt808 sends the vehicles' messages through simulated JT/T 808 terminals (0x0200, 0x0704 for buffered uploads)
  to the gateway's JT/T 808 server instead of MQTT (other devices stay on MQTT) and lists what JT/T 808 could not
  carry exactly (docs/scenarios.md "JT/T 808"); device times are then whole seconds.
  Device times start at --start (default: now, or for time-of-day scenarios the next matching time); --speed > 1
  compresses wall time only, so device times run ahead of the gateway clock by (speed - 1) × elapsed.
  Publishes the fleet's readings like its devices would (docs/simulation.md). --rate is msg/s for the whole fleet
  (every interval scaled alike); the same --seed and --start give the same messages. --dry-run prints them as JSON
  lines instead (needs --duration). Exit 1 when a message or connection failed, 2 on bad arguments or files.
`;

/** Where the command writes, and what a test can inject. */
export interface SimulateIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Redraw the progress in place (a terminal). Default false: a block every 10 s. */
  isTTY?: boolean;
  /** Aborting ends the run early (the CLI aborts on SIGINT / SIGTERM). */
  signal?: AbortSignal;
  /** The scenario runner's entry point; default src/sim/scenario/index.ts `loadScenario`, when installed. */
  loadScenario?: LoadScenario;
  clock?: Clock;
}

class UsageError extends Error {}

const OPTIONS = {
  fleet: { type: 'string' },
  models: { type: 'string', default: DEFAULT_MODELS_DIR },
  scenario: { type: 'string' },
  broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
  rate: { type: 'string' },
  seed: { type: 'string', default: '1' },
  duration: { type: 'string' },
  start: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
  'credentials-file': { type: 'string' },
  connections: { type: 'string', default: '4' },
  'max-in-flight': { type: 'string', default: '2000' },
  'dry-run': { type: 'boolean', default: false },
  speed: { type: 'string' },
  jt808: { type: 'string' },
} as const;

function positiveNumber(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got ${v}`);
  return n;
}

function startTime(v: string | undefined, clock: Clock): number {
  if (v === undefined) return clock.now();
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new UsageError(`--start must be epoch ms or an ISO-8601 time with zone, got ${v}`);
  return n;
}

/** `riskgate simulate`: returns the exit code. */
export async function simulateCommand(args: string[], io: SimulateIo): Promise<number> {
  try {
    return await run(args, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`riskgate simulate: ${err.message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
}

async function run(args: string[], io: SimulateIo): Promise<number> {
  const clock = io.clock ?? systemClock;
  let v: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true }>>['values'];
  try {
    v = parseArgs({ args, options: OPTIONS, strict: true }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const seed = Number(v.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got ${v.seed}`);
  // A scenario file of devices/scenarios/ brings its own devices and timeline: it is played as written.
  if (v.scenario && !v.fleet && !io.loadScenario) return playScenarioFile(v.scenario, { io, clock, seed, broker: v.broker, start: v.start, speed: v.speed, username: v.username, password: v.password, jt808: v.jt808 });
  if (v.jt808 !== undefined) throw new UsageError('--jt808 plays the vehicles of a scenario file (--scenario without --fleet)');
  if (!v.fleet) throw new UsageError('--fleet is required (or --scenario with a file of devices/scenarios/)');
  const rate = positiveNumber('rate', v.rate);
  const durationMs = v.duration === undefined ? undefined : parseDurationMs(v.duration);
  if (v.duration !== undefined && (durationMs === undefined || durationMs <= 0)) throw new UsageError(`--duration must be like 30s, 10m or 2h, got ${v.duration}`);
  const connections = positiveNumber('connections', v.connections) as number;
  const maxInFlight = positiveNumber('max-in-flight', v['max-in-flight']) as number;
  if (v['credentials-file'] && v.username) throw new UsageError('give --credentials-file (one login per device) or --username (one shared login), not both');
  if ((v.password || v['password-file']) && !v.username) throw new UsageError('--password needs --username');
  const startMs = startTime(v.start, clock);

  const t0 = performance.now();
  const models = loadModels(v.models);
  if (!models.ok) return problems(io, models.problems.map(formatYamlProblem));
  const fleet = loadSimFleet(v.fleet, models.models);
  if (!fleet.ok) return problems(io, fleet.problems.map(formatYamlProblem));
  let profiles = fleet.profiles;
  io.stderr(
    `fleet ${fleet.name} (${v.fleet}): ${fleet.devices.length} devices of ${fleet.tenants.length} enterprises, ${models.models.size} models, loaded in ${((performance.now() - t0) / 1000).toFixed(2)} s` +
      `${fleet.unsimulated.length > 0 ? `; ${fleet.unsimulated.length} not simulated (no sim: block, no known model — e.g. ${fleet.unsimulated[0]?.device.tenant}/${fleet.unsimulated[0]?.device.deviceId})` : ''}\n`,
  );

  if (profiles.length === 0) return problems(io, [`${v.fleet}: no device to simulate (give devices a sim: block or a model: from ${v.models})`]);
  let logins: Map<string, MqttLogin> | undefined;
  if (v['credentials-file']) {
    const file = v['credentials-file'];
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return problems(io, [`${file}: ${(err as Error).message}`]);
    }
    const creds = parseCredentials(text, file);
    if (!creds.ok) return problems(io, [creds.error]);
    logins = creds.logins;
    const missing = profiles.filter((p) => !creds.logins.has(`${p.device.tenant}/${p.device.deviceId}`));
    if (missing.length === profiles.length) return problems(io, [`${file}: no login for any simulated device (usernames are tenant/device_id)`]);
    if (missing.length > 0) {
      io.stderr(`warning: ${missing.length} devices have no login in ${file} and are left out (e.g. ${missing[0]?.device.tenant}/${missing[0]?.device.deviceId})\n`);
      const skip = new Set(missing);
      profiles = profiles.filter((p) => !skip.has(p));
    }
  }
  let password = v.password;
  if (v['password-file']) password = readFileSync(v['password-file'], 'utf8').trim();

  let scenario: Scenario | undefined;
  if (v.scenario) {
    const loader = io.loadScenario ?? (await findScenarioLoader());
    if (!loader) return problems(io, ['--scenario needs a scenario runner: src/sim/scenario/index.ts exporting loadScenario(file, ctx) (src/sim/scenario-hook.ts); this build has none']);
    try {
      scenario = await loader(v.scenario, { devices: profiles.map((p, i) => scenarioDevice(p, i)), seed, startMs });
    } catch (err) {
      return problems(io, [`${v.scenario}: ${(err as Error).message}`]);
    }
    io.stderr(`scenario ${scenario.name} (${v.scenario})${scenario.durationS === undefined ? '' : `, ${scenario.durationS} s`}\n`);
  }
  const runMs = durationMs ?? (scenario?.durationS === undefined ? undefined : scenario.durationS * 1000);
  const schedule = new FleetSchedule({ profiles, seed, startMs, rate, override: scenario });
  const target = rate ?? schedule.naturalRate;
  io.stderr(`${profiles.length} devices send ${schedule.naturalRate.toFixed(1)} msg/s at their models' intervals${rate ? `; --rate ${rate} scales every interval by ${schedule.intervalScale.toFixed(3)}` : ''}\n`);
  const fastest = Math.min(...profiles.map((p) => p.intervalS)) * schedule.intervalScale;
  if (fastest < 0.1) io.stderr(`warning: at this rate a device reports every ${fastest.toFixed(3)} s; the gateway refuses more than 50 messages per second per device\n`);

  if (v['dry-run']) {
    if (runMs === undefined) throw new UsageError('--dry-run needs --duration (or a scenario with a duration)');
    for (const m of schedule.until(startMs + runMs)) io.stdout(`${JSON.stringify({ topic: m.topic, payload: m.payload })}\n`);
    return 0;
  }
  return publish({ io, clock, schedule, broker: v.broker, logins, shared: v.username ? { username: v.username, password: password ?? '' } : undefined, connections, maxInFlight, runMs, title: `simulate ${fleet.name} · ${profiles.length} devices · seed ${seed} · ${v.broker}`, target });
}

interface PublishPlan {
  io: SimulateIo;
  clock: Clock;
  schedule: FleetSchedule;
  broker: string;
  logins?: Map<string, MqttLogin>;
  shared?: MqttLogin;
  connections: number;
  maxInFlight: number;
  runMs?: number;
  title: string;
  target: number;
}

async function publish(p: PublishPlan): Promise<number> {
  const { io, schedule } = p;
  const stats = new SimStats();
  const logins = p.logins;
  const transport = new MqttTransport({
    brokerUrl: p.broker,
    stats,
    loginFor: logins ? (d) => logins.get(`${d.info.tenant}/${d.info.deviceId}`) as MqttLogin : undefined,
    login: p.shared,
    connections: p.connections,
    clientIdPrefix: `riskgate-sim-${process.pid}`,
    onConnectProgress: (done, total) => {
      if (io.isTTY && (done % 100 === 0 || done === total)) io.stderr(`\rconnecting ${done}/${total}`);
    },
  });
  io.stderr(`connecting ${logins ? `${schedule.devices.length} devices (one login each)` : `${Math.min(p.connections, schedule.devices.length)} connections`} to ${p.broker}…\n`);
  await transport.open(schedule.devices);
  if (io.isTTY) io.stderr('\n');
  if (stats.connections.connected === 0) {
    await transport.close();
    return problems(io, [`no connection to ${p.broker}: ${stats.lastError ?? 'unknown error'}`], 1);
  }
  const simulation = new Simulation({ schedule, transport, stats, clock: p.clock, maxInFlight: p.maxInFlight });
  const progress = new ProgressDisplay({
    ctx: { title: p.title, targetRate: p.target, durationMs: p.runMs },
    snapshot: () => stats.snapshot(p.clock.now()),
    write: io.stderr,
    isTTY: io.isTTY ?? false,
    beforeRender: () => transport.countConnected(),
  });
  simulation.start();
  progress.start();
  await new Promise<void>((resolve) => {
    const timer = p.runMs === undefined ? undefined : setTimeout(resolve, p.runMs);
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => {
      if (timer) clearTimeout(timer);
      resolve();
    });
  });
  await simulation.stop();
  progress.stop();
  await transport.close();
  const failed = stats.errors + stats.connections.failed;
  io.stderr(`done: ${stats.sent} sent, ${stats.errors} errors, ${stats.connections.failed} failed connections\n`);
  return failed > 0 ? 1 : 0;
}

interface ScenarioPlayOptions {
  io: SimulateIo;
  clock: Clock;
  seed: number;
  broker: string;
  start?: string;
  speed?: string;
  username?: string;
  password?: string;
  /** HOST:PORT of the gateway's JT/T 808 server: vehicles report through simulated terminals. */
  jt808?: string;
}

/** `--jt808 HOST:PORT` (an IPv6 host in brackets: `[::1]:7611`). */
function jt808Target(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v);
  const port = Number(m?.[3]);
  if (!m || !(port >= 1 && port <= 65_535)) throw new UsageError(`--jt808 must be HOST:PORT (e.g. 127.0.0.1:7611), got ${v}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** `simulate --scenario FILE` without a fleet: the scenario's messages at their times, then its expected events. */
async function playScenarioFile(file: string, o: ScenarioPlayOptions): Promise<number> {
  const { io } = o;
  const loaded = loadScenarioFile(file);
  if (!loaded.ok) return problems(io, loaded.problems.map(formatYamlProblem));
  const s = loaded.value;
  const speed = o.speed === undefined ? 1 : Number(o.speed);
  if (!(speed > 0)) throw new UsageError(`--speed must be a positive number, got ${o.speed}`);
  const jt808 = o.jt808 === undefined ? undefined : jt808Target(o.jt808);
  let startMs = o.start === undefined ? startNear(s, o.clock.now()) : startTime(o.start, o.clock);
  // JT/T 808 times are BCD seconds: a start on a whole second keeps every device time of the scenario exact.
  if (jt808) startMs = Math.floor(startMs / 1000) * 1000;
  if (startMs > o.clock.now() + 300_000) {
    io.stderr(`warning: ${s.name} keeps its time of day; it starts at ${new Date(startMs).toISOString()} — device times that far ahead are refused by the gateway (give --start)\n`);
  }
  const messages = scenarioMessages(s, { seed: o.seed, startMs });
  const steps = scenarioSteps(messages, { startMs, durationMs: s.durationMs });
  io.stderr(`scenario ${s.name}: ${s.title} — ${s.devices.length} devices, ${messages.length} messages over ${Math.round(s.durationMs / 1000)} s of device time, speed ${speed}\n`);
  io.stderr(
    `register its devices first (${jt808 ? 'scenarioJt808SeedYaml' : 'scenarioSeedYaml'} in src/sim/scenario writes a REGISTRY_SEED file): ${s.devices.map((d) => `${d.device.tenant}/${d.device.deviceId}`).join(', ')}\n`,
  );
  const terminals = jt808 ? new ScenarioJt808Terminals({ ...jt808, scenario: s }) : undefined;
  if (terminals) {
    const assigned = scenarioJt808AssignedPhones(s, terminals.phones);
    const list = [...terminals.phones].map(([device, phone]) => `${device} → ${phone}${assigned.has(device) ? ' (assigned: the gateway must hold it as attrs.jt808_phone)' : ''}`);
    io.stderr(`JT/T 808 terminals to ${jt808?.host}:${jt808?.port}: ${list.length === 0 ? 'none (the scenario has no vehicle)' : list.join(', ')}\n`);
  }
  const viaMqtt = messages.filter((m) => !terminals?.handles(m));
  // Only a scenario with devices on MQTT needs the broker.
  const client = viaMqtt.length === 0 ? undefined : await mqtt.connectAsync(o.broker, { clientId: `riskgate-scenario-${process.pid}`, username: o.username, password: o.password, reconnectPeriod: 1000 });
  let sent = 0;
  let code = 0;
  const send = async (m: ScenarioMessage): Promise<void> => {
    if (terminals?.handles(m)) await terminals.send(m);
    else await client?.publishAsync(m.topic, m.payload, { qos: 1 });
  };
  try {
    const res = await playScenario(steps, {
      speed,
      signal: io.signal,
      publish: async (m) => {
        await send(m);
        sent++;
        if (sent % 50 === 0) io.stderr(`sent ${sent}/${messages.length}\n`);
      },
    });
    io.stderr(`done: ${res.published} messages in ${(res.wallMs / 1000).toFixed(1)} s${terminals ? ` (${terminals.stats.jt808Messages} JT/T 808 messages with ${terminals.stats.points} locations, ${viaMqtt.length} over MQTT)` : ''}\n`);
  } catch (err) {
    if (io.signal?.aborted) io.stderr(`stopped after ${sent} messages\n`);
    else if (terminals) {
      // A terminal refused, timed out or could not connect: say which, and fail.
      io.stderr(`failed after ${sent} messages: ${(err as Error).message}\n`);
      code = 1;
    } else throw err;
  } finally {
    terminals?.close();
    await client?.endAsync();
  }
  if (terminals) {
    const diffs = terminals.differences();
    io.stderr(diffs.length === 0 ? 'JT/T 808 carried every vehicle reading exactly\n' : `what JT/T 808 carried differently from MQTT:\n${formatJt808Differences(diffs).map((l) => `  ${l}\n`).join('')}`);
  }
  io.stdout(`expected alert events (${s.expect.length}):\n`);
  for (const e of s.expect) io.stdout(`  ${JSON.stringify(e)}\n`);
  return code;
}

function problems(io: SimulateIo, lines: string[], code = 2): number {
  for (const l of lines) io.stderr(`${l}\n`);
  return code;
}

/** The CLI wiring: process streams, a terminal check, SIGINT / SIGTERM end the run. */
export async function runSimulateCli(args: string[]): Promise<number> {
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await simulateCommand(args, {
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
      isTTY: process.stderr.isTTY === true,
      signal: ac.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
