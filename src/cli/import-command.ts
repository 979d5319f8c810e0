import { parseArgs } from 'node:util';
import { importToFile, MAPPERS } from '../capture/import/import-capture.js';
import { formatReport } from '../capture/import/import-report.js';

const USAGE = `riskgate import <source.csv> --out <capture.jsonl.gz> [--mapper M] [--from T] [--to T] [--every N] [--report F]

  Maps a real recording onto riskgate devices and writes a capture for \`riskgate replay\`, an import report
  (<capture>.report.json: defects found, line numbers) and, where the licence requires it, the upstream licence text
  beside the capture. --from/--to are source wall-clock times (2015-11-26, 2015-11-26T08:00; a date alone as --to
  keeps that whole day); --every N keeps every Nth time step. Mappers (detected from the header unless --mapper):
${MAPPERS.map((m) => `    ${m.name.padEnd(14)}${m.summary}`).join('\n')}
  docs/captures.md describes every mapping, unit conversion and assumption.
`;

/** `riskgate import …`: returns the process exit code. */
export function runImport(argv: string[], out: { stdout: (s: string) => void; stderr: (s: string) => void }): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    out.stderr(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const source = positionals[0];
  if (!source || !values.out || positionals.length > 1) {
    out.stderr(USAGE);
    return 2;
  }
  const every = values.every === undefined ? 1 : Number(values.every);
  const res = importToFile({ source, out: values.out, mapper: values.mapper, from: values.from, to: values.to, every, reportPath: values.report });
  out.stdout(formatReport(res.report));
  out.stdout(
    `wrote ${values.out} (${res.capture.messages.length} messages, ${res.capture.header.devices.length} devices, ${(res.bytes / 1024).toFixed(0)} KiB), ` +
      `report ${res.reportPath}${res.licencePath ? `, licence ${res.licencePath}` : ''}\n`,
  );
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      mapper: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      every: { type: 'string' },
      report: { type: 'string' },
    },
  });
}
