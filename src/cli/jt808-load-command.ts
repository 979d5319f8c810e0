import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDurationMs } from '../lib/duration.js';
import { formatJt808LoadResult, jt808LoadSeedYaml, runJt808Load } from '../loadtest/jt808-load.js';

export const JT808_LOAD_USAGE = `riskgate jt808-load --host H --port P --terminals N [--interval 10s] [--duration 60s]
        [--first-index 0] [--phone-base 14000000000] [--version 2013|2019] [--concurrency 200]
        [--write-seed FILE]   (only write the gateway's REGISTRY_SEED for these terminals, then exit)
`;

interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

function duration(name: string, v: string): number {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms <= 0) throw new Error(`--${name} must be a duration such as 10s, 500ms, 2m (got "${v}")`);
  return ms;
}

function integer(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer ${min}–${max} (got "${v}")`);
  return n;
}

/**
 * `riskgate jt808-load`: N simulated JT/T 808 terminals against a running gateway (src/loadtest/jt808-load.ts). The
 * gateway must know them: `--write-seed FILE` writes the REGISTRY_SEED to start it with. Exit 0 when every location
 * was acknowledged and nothing failed, 1 otherwise.
 */
export async function jt808LoadCommand(args: string[], io: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '7611' },
      terminals: { type: 'string', default: '100' },
      interval: { type: 'string', default: '10s' },
      duration: { type: 'string', default: '60s' },
      'first-index': { type: 'string', default: '0' },
      'phone-base': { type: 'string', default: '14000000000' },
      version: { type: 'string', default: '2013' },
      concurrency: { type: 'string', default: '200' },
      'write-seed': { type: 'string' },
    },
  });
  const terminals = integer('terminals', values.terminals as string, 1, 1_000_000);
  const firstIndex = integer('first-index', values['first-index'] as string, 0, 1_000_000_000);
  const phoneBase = integer('phone-base', values['phone-base'] as string, 1, 99_999_999_999 - terminals - firstIndex);
  if (values['write-seed']) {
    writeFileSync(values['write-seed'], jt808LoadSeedYaml({ terminals, firstIndex, phoneBase }));
    io.stdout(`wrote ${terminals} vehicles to ${values['write-seed']} (start the gateway with REGISTRY_SEED=${values['write-seed']})\n`);
    return 0;
  }
  const version = values.version === '2019' ? 2019 : values.version === '2013' ? 2013 : undefined;
  if (version === undefined) throw new Error(`--version must be 2013 or 2019 (got "${values.version}")`);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  try {
    const r = await runJt808Load({
      host: values.host as string,
      port: integer('port', values.port as string, 1, 65535),
      terminals,
      intervalMs: duration('interval', values.interval as string),
      durationMs: duration('duration', values.duration as string),
      firstIndex,
      phoneBase,
      version,
      connectConcurrency: integer('concurrency', values.concurrency as string, 1, 100_000),
      log: (line) => io.stderr(`${line}\n`),
      signal: ac.signal,
    });
    io.stdout(formatJt808LoadResult(r));
    return r.errors === 0 && r.locationsAcked === r.locationsSent ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
