import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { DeadLetterLog } from '../../../src/pipeline/dead-letters.js';
import { DEFAULT_INGEST_LIMITS, Pipeline } from '../../../src/pipeline/pipeline.js';
import { loadRules } from '../../../src/rules/loader.js';
import { compareEvents, loadScenarioDir, scenarioMessages, scenarioRuleProblems, scenarioSteps, type Scenario } from '../../../src/sim/scenario/index.js';
import { startEngineHarness, type EngineHarness } from '../../helpers/engine-harness.js';

// The shipped scenarios (devices/scenarios/*.yaml) against the shipped rules (alert-rules/): they load, cite only
// rules that exist for their devices' kinds, and — through the real pipeline and rule engine in process — produce
// their expected events for many noise seeds, not just the one the integration test sends over Mosquitto.

const REPO = join(import.meta.dirname, '../../..');
const loaded = loadScenarioDir(join(REPO, 'devices/scenarios'), 'devices/scenarios');
const SCENARIOS: Scenario[] = loaded.ok ? loaded.value : [];
/** Seeds the expectations must hold for: the noise is bounded, so they must hold for every one. */
const SEEDS = [1, 2, 3, 7, 42, 2025, 31337, 0xdeadbeef];

let h: EngineHarness | undefined;
afterEach(() => {
  h?.close();
  h = undefined;
});

/** The scenario in lockstep through Pipeline → RuleEngine → AlertService, as the integration test drives a gateway. */
function runInProcess(s: Scenario, seed: number): { harness: EngineHarness; rejected: number } {
  const harness = startEngineHarness({ devices: s.devices.map((d) => d.device), startMs: s.startMs });
  const deadLetters = new DeadLetterLog(100);
  const pipeline = new Pipeline({ registry: harness.registry, metrics: harness.metrics, deadLetters, clock: harness.clock, limits: DEFAULT_INGEST_LIMITS, sinks: [harness.engine] });
  const steps = scenarioSteps(scenarioMessages(s, { seed }), { startMs: s.startMs, durationMs: s.durationMs, tickEveryMs: 10_000 });
  for (const step of steps) {
    harness.clock.set(step.atMs);
    harness.engine.tick();
    for (const m of step.messages) pipeline.ingestMqtt(m.topic, Buffer.from(m.payload));
  }
  return { harness, rejected: deadLetters.size };
}

describe('sim/scenario shipped scenarios', () => {
  test('every scenario file loads without a problem', () => {
    expect(loaded.ok ? [] : loaded.problems.map(formatYamlProblem)).toEqual([]);
    expect(SCENARIOS.map((s) => s.name)).toEqual([
      'cable-overheating',
      'dust-collector-clogging',
      'gas-detector-offline',
      'gas-leak-kitchen',
      'hazmat-night-ban',
      'nb-iot-buffered-upload',
      'smoke-fault-then-alarm',
    ]);
  });

  test('every expected event names a rule of the shipped packs for its device kind', () => {
    const rules = loadRules(join(REPO, 'alert-rules'), REPO);
    if (!rules.ok) throw new Error('alert-rules/ invalid');
    expect(SCENARIOS.flatMap((s) => scenarioRuleProblems(s, rules.rules))).toEqual([]);
  });

  test.each(SCENARIOS.map((s) => [s.name, s] as const))('%s produces its expected events whatever the noise seed', (_name, s) => {
    for (const seed of SEEDS) {
      const run = runInProcess(s, seed);
      h = run.harness;
      expect(run.rejected, `seed ${seed}: rejected messages`).toBe(0);
      const cmp = compareEvents(s, h.events);
      expect(cmp.ok, `seed ${seed}:\n${cmp.report}`).toBe(true);
      h.close();
      h = undefined;
    }
  });
});
