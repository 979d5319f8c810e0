import type { KindName } from '../kinds/kind.js';

// The seam between the simulator (src/sim) and scenarios (devices/scenarios/*.yaml, run by src/sim/scenario/).
// The simulator owns the normal behaviour of every device; a scenario changes chosen readings (a leak, a fire, a
// device going silent, a speeding truck) through these hooks. Both sides must stay deterministic: a scenario may use
// only its arguments (including `ctx.rand`), never Math.random or the real clock, so that the same seed gives the same
// messages with or without a scenario.

/** A simulated device as a scenario sees it. */
export interface ScenarioDevice {
  /** Position in the fleet's simulated devices (stable for a fleet file). */
  index: number;
  tenant: string;
  deviceId: string;
  kind: KindName;
  model?: string;
  region?: string;
  site?: string;
  attrs: Readonly<Record<string, string | number | boolean>>;
}

/** When a reading happens. */
export interface ReadingContext {
  /** Simulated seconds since the run started (scenario timelines count from here). */
  tS: number;
  /** Simulated wall time, epoch ms: the payload's `ts`. */
  nowMs: number;
  /** The reading's `seq` (per device, from 1). */
  seq: number;
  /** This device's scenario PRNG: deterministic per (seed, device), separate from the normal signals' draws. */
  rand: () => number;
}

/** Per-device signal override: what a scenario plugs into the simulator. Every hook is optional. */
export interface SignalOverride {
  /**
   * Called for every reading before it is sent, with the data the device's model produced. Edit `data` in place (or
   * return a replacement object) to change fields; return `null` to send nothing this time (a silent or offline
   * device — the device keeps its schedule).
   */
  reading?(device: ScenarioDevice, data: Record<string, unknown>, ctx: ReadingContext): Record<string, unknown> | null | void;
  /**
   * Seconds until the device's next reading, instead of its model interval (a detector in alarm reporting every
   * 10 s); `undefined` keeps the normal interval. Not scaled by `--rate`.
   */
  nextIntervalS?(device: ScenarioDevice, ctx: ReadingContext): number | undefined;
}

/** A loaded scenario. */
export interface Scenario extends SignalOverride {
  name: string;
  /** Length of the scenario, s: `riskgate simulate` stops after it unless `--duration` is given. */
  durationS?: number;
}

/** What `loadScenario` gets besides the file. */
export interface ScenarioLoadContext {
  /** Every simulated device, by `index`. */
  devices: readonly ScenarioDevice[];
  seed: number;
  /** Simulated start time, epoch ms. */
  startMs: number;
}

/**
 * The scenario runner's entry point: `export function loadScenario(…)` (or `async`) in src/sim/scenario/index.ts.
 * Throw an Error (message with file:line) when the scenario file is invalid.
 */
export type LoadScenario = (file: string, ctx: ScenarioLoadContext) => Scenario | Promise<Scenario>;

/** The module the simulator looks for; relative to this file, so it works from src/ (tsx) and dist/. */
const SCENARIO_MODULE = './scenario/index.js';

/**
 * `loadScenario` of src/sim/scenario/index.ts, or undefined when the scenario runner is not installed. Any other
 * failure while importing it (a syntax error in the runner) is thrown.
 */
export async function findScenarioLoader(): Promise<LoadScenario | undefined> {
  const url = new URL(SCENARIO_MODULE, import.meta.url);
  let mod: { loadScenario?: unknown };
  try {
    mod = (await import(url.href)) as { loadScenario?: unknown };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module|Failed to load url/.test(e.message)) && e.message.includes('scenario')) return undefined;
    throw err;
  }
  return typeof mod.loadScenario === 'function' ? (mod.loadScenario as LoadScenario) : undefined;
}
