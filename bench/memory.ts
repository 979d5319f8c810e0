// Memory of the whole gateway (src/app.ts: HTTP API, embedded broker, JT/T 808 server, SQLite store, spool, rules,
// alerts, activity) with N registered devices carrying rule state: every device sent a few readings, so each of its
// rule slots, its rate-limit bucket and its activity counts exist. Issue 9 item 4 (target: RSS ≤ 512 MiB with 100 000
// devices; report the bytes per device).
//
//   node --import tsx bench/memory.ts [--devices 100000] [--readings 3] [--json out.json]
//
// RG_MEMORY_HEAP_SNAPSHOT=/tmp/gw.heapsnapshot writes a heap snapshot of the fed gateway (open it in Chrome DevTools).
//
// The readings are generated first, into files, by this process; the gateway runs in child processes that never hold
// the generator: one registers the devices (into SQLite, as a seed or the API would), one starts on that data dir as a
// restarted gateway does and is fed the readings from the files, one runs with no device for the baseline. RSS and
// V8 heap are read after a full GC.
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { Gateway } from '../src/app.js';
import { parseConfig } from '../src/config/env.js';
import { loopbackGatewayEnv } from '../test/helpers/gateway.js';
import type { Device } from '../src/registry/device-registry.js';
import { envelopes, generateRounds, loadFleet } from './hot-path.js';

const ROOT = resolve(import.meta.dirname, '..');
const MiB = 1024 * 1024;

interface Step {
  step: string;
  rssMiB: number;
  heapUsedMiB: number;
  /** V8 heap reserved (used and free). */
  heapTotalMiB: number;
  /** Memory outside the V8 heap that V8 knows of (ArrayBuffers, Buffers). */
  externalMiB: number;
}

async function measure(step: string): Promise<Step> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Twice, with a turn of the event loop between: finalizers and weak references settle.
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  const m = process.memoryUsage();
  return { step, rssMiB: m.rss / MiB, heapUsedMiB: m.heapUsed / MiB, heapTotalMiB: m.heapTotal / MiB, externalMiB: m.external / MiB };
}

function startGateway(dataDir: string): Gateway {
  const cfg = parseConfig({
    ...loopbackGatewayEnv(dataDir),
    LOG_LEVEL: 'silent',
    MQTT_CLIENT_ID: `rg-memory-${process.pid}`,
  });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems));
  return new Gateway({ config: cfg.config, logger: pino({ level: 'silent' }) });
}

/** In a child: `baseline` (no device), `register` (devices from a JSON file into SQLite), `run` (start, feed files). */
async function child(role: string, dataDir: string, files: string[]): Promise<void> {
  const gateway = startGateway(dataDir);
  const steps: Step[] = [];
  try {
    if (role === 'register') {
      await gateway.start();
      gateway.registry.upsert(JSON.parse(readFileSync(files[0] as string, 'utf8')) as Device[]);
      return;
    }
    await gateway.start();
    steps.push(await measure(`started, ${gateway.registry.size} devices`));
    for (const [i, file] of files.entries()) {
      let n = 0;
      // One Buffer per message, as mqtt.js hands them over.
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        const tab = line.indexOf('\t');
        gateway.pipeline.ingestMqtt(line.slice(0, tab), Buffer.from(line.slice(tab + 1)));
        if ((++n & 1023) === 0) await new Promise((r) => setImmediate(r));
      }
      await gateway.batcher.flush();
      gateway.rules.tick(); // the offline rule's slot of every device, as the engine's 1 s tick makes it
      gateway.rules.persist();
      const accepted = (await gateway.metrics.readingsAccepted.get()).values.reduce((s, v) => s + v.value, 0);
      steps.push(await measure(`after reading ${i + 1} of each (${accepted} accepted)`));
    }
    // An idle gateway: V8's memory reducer gives back heap pages a busy one keeps committed.
    await new Promise((r) => setTimeout(r, 15_000));
    steps.push(await measure('15 s later, idle'));
    if (process.env.RG_MEMORY_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.RG_MEMORY_HEAP_SNAPSHOT);
  } finally {
    await gateway.stop();
    process.stdout.write(`${JSON.stringify(steps)}\n`);
  }
}

function runChild(role: string, dataDir: string, files: string[]): Step[] {
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'memory.ts'), '--child', role, '--dir', dataDir, ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  if (res.status !== 0) throw new Error(`child ${role} failed (${res.status}): ${res.stderr}`);
  const last = res.stdout.trim().split('\n').at(-1) ?? '[]';
  return JSON.parse(last) as Step[];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { devices: { type: 'string', default: '100000' }, readings: { type: 'string', default: '3' }, json: { type: 'string' }, child: { type: 'string' }, dir: { type: 'string' } },
  });
  if (values.child) return child(values.child, values.dir as string, positionals);
  const n = Number(values.devices);
  const readings = Number(values.readings);
  const work = mkdtempSync(join(tmpdir(), 'rg-memory-'));
  try {
    console.log(`memory: the gateway with ${n} devices, ${readings} readings each; node ${process.version}`);
    const fleet = loadFleet(n);
    writeFileSync(join(work, 'devices.json'), JSON.stringify(fleet.devices));
    const files: string[] = [];
    for (let r = 0; r < readings; r++) {
      // One reading a minute of device time, the last a little before now: every reading live, inside every window.
      const { topics, payloads } = envelopes(generateRounds(fleet, 1, 0, r * 60), Date.now() + 60_000 - (readings - r) * 60_000, 0, r);
      const file = join(work, `round-${r}.tsv`);
      writeFileSync(file, topics.map((t, i) => `${t}\t${(payloads[i] as Buffer).toString()}\n`).join(''));
      files.push(file);
    }
    const base = runChild('baseline', join(work, 'empty'), [])[0] as Step;
    runChild('register', join(work, 'data'), [join(work, 'devices.json')]);
    const steps = [base, ...runChild('run', join(work, 'data'), files)];
    console.log('\n| step | RSS MiB | V8 heap used MiB | V8 heap total MiB | external MiB |\n|---|---:|---:|---:|---:|');
    for (const s of steps) console.log(`| ${s.step} | ${s.rssMiB.toFixed(1)} | ${s.heapUsedMiB.toFixed(1)} | ${s.heapTotalMiB.toFixed(1)} | ${s.externalMiB.toFixed(1)} |`);
    const last = steps[steps.length - 1] as Step;
    const perDevice = {
      rssBytes: ((last.rssMiB - base.rssMiB) * MiB) / n,
      heapBytes: ((last.heapUsedMiB - base.heapUsedMiB) * MiB) / n,
      externalBytes: ((last.externalMiB - base.externalMiB) * MiB) / n,
    };
    console.log(`\nRSS ${last.rssMiB.toFixed(0)} MiB with ${n} devices; per device over the empty gateway: ${Math.round(perDevice.rssBytes)} bytes of RSS, of which ${Math.round(perDevice.heapBytes)} V8 heap and ${Math.round(perDevice.externalBytes)} external`);
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ devices: n, readings, node: process.version, steps, perDevice }, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
