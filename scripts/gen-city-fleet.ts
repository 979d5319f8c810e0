// Writes devices/fleets/city.yaml from the deterministic generator in src/sim/city/ (same output on every run).
//   npx tsx scripts/gen-city-fleet.ts [--out devices/fleets/city.yaml] [--models devices/models]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatYamlProblem } from '../src/config/yaml-file.js';
import { emitCityFleet } from '../src/sim/city/emit.js';
import { DEFAULT_CITY_OPTIONS, generateCityFleet } from '../src/sim/city/generate.js';
import { loadModels } from '../src/sim/models.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'devices/fleets/city.yaml' }, models: { type: 'string', default: 'devices/models' } } });
const models = loadModels(values.models);
if (!models.ok) {
  for (const p of models.problems) process.stderr.write(`${formatYamlProblem(p)}\n`);
  process.exit(1);
}
const fleet = generateCityFleet(models.models, DEFAULT_CITY_OPTIONS);
const text = emitCityFleet(fleet, DEFAULT_CITY_OPTIONS);
writeFileSync(values.out, text);
process.stdout.write(`${values.out}: ${fleet.tenants.length} tenants, ${fleet.devices.length} devices, ${(text.length / 1e6).toFixed(2)} MB\n`);
