// Incident scenarios (devices/scenarios/*.yaml, docs/scenarios.md): load a scenario, turn it into MQTT messages,
// play them at a speed, and compare the alert events a gateway produced with the scenario's `expect`.
export { compareEvents, formatOffset, type EventComparison, type ObservedEvent } from './expect.js';
export { loadScenarioFile, loadScenarioDir, parseScenario, scenarioRuleProblems } from './load-scenario.js';
export { formatTs, scenarioMessages, scenarioSteps, startNear, type ScenarioMessage, type ScenarioMessageOptions, type ScenarioStep, type ScenarioStepOptions } from './messages.js';
export { playScenario, type PlayOptions, type PlayResult } from './player.js';
export { scenarioReadings, type NoiseMode, type ScenarioReading } from './readings.js';
export { scenarioSeedYaml } from './registry-seed.js';
export { deviceKey, type ExpectedEvent, type Scenario, type ScenarioDevice, type TimelineEntry, type TsFormat } from './schema.js';
export {
  formatJt808Differences,
  INITIAL_VEHICLE_WIRE_STATE,
  ScenarioJt808Converter,
  ScenarioJt808Terminals,
  scenarioJt808AssignedPhones,
  scenarioJt808Phones,
  scenarioJt808SeedYaml,
  vehicleDataToLocation,
  type Jt808Conversion,
  type Jt808Difference,
  type Jt808DifferenceCount,
  type Jt808DifferenceKind,
  type Jt808Location,
  type ScenarioJt808Options,
  type VehicleWireState,
} from './jt808.js';
