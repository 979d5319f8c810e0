#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { formatYamlProblem } from '../config/yaml-file.js';
import { loadRules } from '../rules/loader.js';
import { runServer } from '../server.js';
import { cliEnv } from '../config/env.js';
import { watchStream } from './stream-watch.js';
import { runExportMosquitto } from './export-mosquitto.js';
import { tokenCommand } from './token-command.js';

const USAGE = `riskgate <command>

  start                         run the gateway (settings from the environment / .env)
  rules check <dir>             validate rule files offline (exit 1 on any problem)
  stream [--url U] [--since N] [--token T]
                                print alert events from a running gateway's WebSocket stream
                                (token: --token or RG_TOKEN)
  token create --role R --name N [--tenant T] [--regions 5101,…] [--device D] [--expires-in 30d]
  token list | token revoke <id>
  export mosquitto --out DIR [--data-dir data] [--ingest-user U] [--ingest-password-file F]
                                write a Mosquitto password file, ACL file and config snippet
                                manage API tokens in the state database (--data-dir, default DATA_DIR or data)
  import <source.csv> --out C.jsonl.gz [--mapper M] [--from T] [--to T] [--every N]
                                map a real recording onto riskgate devices as a capture (docs/captures.md)
  record --broker URL [--topic 'rg/v1/#'] --out C.jsonl.gz [--duration D] [--username U --password P]
                                record MQTT messages into a capture
  replay C.jsonl.gz --broker URL [--speed 10x|max] [--loop N] [--rebase-time] [--seed-out F]
                                publish a capture's messages again (QoS 1), with the recorded timing
  jt808-load --host H --port P --terminals N [--interval 10s] [--duration 60s] [--write-seed F]
                                N simulated JT/T 808 terminals reporting to a gateway; prints the counts
  simulate --fleet F [--broker URL] [--rate N] [--seed N] [--duration D] [--scenario S] [--credentials-file F]
                                publish a fleet's simulated readings, live counts per kind (docs/simulation.md)
  loadtest --gateway URL --token T --broker URL (--capture C | --scenario S | --devices N --rate R) [--out F.json]
                                load a running gateway; rates, alert latency, rejects, expected alerts (docs/performance.md)
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      await runServer();
      return -1; // keeps running
    case 'rules': {
      if (rest[0] !== 'check' || !rest[1]) break;
      const res = loadRules(rest[1]);
      if (!res.ok) {
        for (const p of res.problems) process.stderr.write(`${formatYamlProblem(p)}\n`);
        return 1;
      }
      process.stdout.write(`ok: ${res.rules.byId.size} rules in ${res.rules.files.join(', ')}\n`);
      return 0;
    }
    case 'stream': {
      const { values } = parseArgs({ args: rest, options: { url: { type: 'string', default: 'ws://127.0.0.1:8080/api/v1/stream' }, since: { type: 'string' }, token: { type: 'string' } } });
      const token = values.token ?? cliEnv().RG_TOKEN;
      if (!token) throw new Error('a token is required: --token or RG_TOKEN (the first start prints a bootstrap admin token; or: riskgate token create)');
      await watchStream(values.url, values.since, token);
      return -1;
    }
    case 'export':
      if (rest[0] !== 'mosquitto') break;
      return runExportMosquitto(rest.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    case 'token':
      return tokenCommand(rest, cliEnv().DATA_DIR ?? 'data');
    case 'jt808-load':
      return (await import('./jt808-load-command.js')).jt808LoadCommand(rest);
    case 'simulate':
      return (await import('./simulate-command.js')).runSimulateCli(rest);
    case 'loadtest':
      return (await import('./loadtest-command.js')).runLoadtestCli(rest);
    case 'import':
      return (await import('./import-command.js')).runImport(rest, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    case 'record':
      return (await import('./capture-command.js')).runRecord(rest, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    case 'replay':
      return (await import('./capture-command.js')).runReplay(rest, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
    default:
      break;
  }
  process.stderr.write(USAGE);
  return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`riskgate: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
