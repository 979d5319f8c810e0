import { formatYamlProblem } from '../../../src/config/yaml-file.js';
import { loadSimFleet, type SimFleet } from '../../../src/sim/fleet-file.js';
import { loadModels, type ModelCatalog } from '../../../src/sim/models.js';

/** The committed models (devices/models). */
export function committedModels(): ModelCatalog {
  const res = loadModels('devices/models');
  if (!res.ok) throw new Error(res.problems.map(formatYamlProblem).join('\n'));
  return res.models;
}

/** A fleet file loaded for simulation, or the test fails with its problems. */
export function fleet(file: string, models: ModelCatalog = committedModels()): SimFleet {
  const res = loadSimFleet(file, models);
  if (!res.ok) throw new Error(res.problems.map(formatYamlProblem).join('\n'));
  return res;
}

/** 2025-03-15 10:00 Beijing time. */
export const START_MS = Date.UTC(2025, 2, 15, 2, 0, 0);
