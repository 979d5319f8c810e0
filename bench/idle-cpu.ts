// What the gateway's own timers cost while no reading arrives: the in-process gateway of bench/hot-path.ts (every
// sink, every default rule pack, its timers on: the rule engine's tick and persistence passes, activity, the store)
// fed one reading of each of N city-fleet devices, so every device has rule slots; then CPU time per second of the
// whole process over an idle stretch. Figures only, never a pass/fail.
//
//   node --import tsx bench/idle-cpu.ts [--devices 20000] [--settle-s 5] [--idle-s 10]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadRules } from '../src/rules/loader.js';
import { buildGateway, envelopes, generateRounds, loadFleet, stopInfluxSink } from './hot-path.js';

const ROOT = join(import.meta.dirname, '..');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { devices: { type: 'string', default: '20000' }, 'settle-s': { type: 'string', default: '5' }, 'idle-s': { type: 'string', default: '10' } } });
  const n = Number(values.devices);
  const settleS = Number(values['settle-s']);
  const idleS = Number(values['idle-s']);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--devices must be a positive integer, not ${values.devices}`);
  if (!(settleS >= 0) || !(idleS > 0)) throw new Error('--settle-s must be ≥ 0 and --idle-s > 0');
  const rules = loadRules(join(ROOT, 'alert-rules'), ROOT);
  if (!rules.ok) throw new Error('alert-rules/ does not load');
  const fleet = loadFleet(n);
  const all = envelopes(generateRounds(fleet, 1, 200), Date.now(), 1000);
  const gw = await buildGateway({ devices: fleet.devices, rules: rules.rules, sinks: { store: true, rules: true, activity: true }, store: 'influx', timers: true });
  try {
    for (let i = 0; i < all.payloads.length; i++) {
      gw.pipeline.ingestMqtt(all.topics[i] as string, all.payloads[i] as Buffer);
      if ((i & 255) === 0) await new Promise((r) => setImmediate(r));
    }
    await gw.batcher.flush();
    // The first passes after the readings write what they changed: not idle yet.
    await new Promise((r) => setTimeout(r, settleS * 1000));
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const c = process.cpuUsage(c0);
    console.log(`idle gateway, ${n} devices with rule state: ${((c.user + c.system) / 1000 / idleS).toFixed(1)} ms of CPU a second (${idleS} s after ${settleS} s settling)`);
  } finally {
    await gw.stop();
    stopInfluxSink();
  }
}

await main();
