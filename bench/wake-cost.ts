// What one wake-up of an idle Node process costs on this machine: a timer loop that does nothing but sleep `gap` ms
// and wake, n times, for a few gaps. Reports CPU time per wake-up of the whole process (process.cpuUsage) and of its
// main thread alone (/proc/self/task/<tid>/schedstat, Linux). The gateway sleeps between socket reads while the
// publisher, the broker and the store run on the same cores; this is the price of each of those wake-ups before any
// work is done (docs/performance.md, "Wake-ups and cold caches"). Figures only, never a pass/fail.
//
//   node --import tsx bench/wake-cost.ts [--wakes 2000] [--gaps 1,2,5,20]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** CPU time the main thread has run, µs (Linux schedstat, ns → µs); undefined elsewhere. */
function mainThreadRunUs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return undefined;
  }
}

async function measure(gapMs: number, wakes: number): Promise<{ processUs: number; mainUs: number | undefined; wallMs: number }> {
  const m0 = mainThreadRunUs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < wakes; i++) await new Promise<void>((r) => setTimeout(r, gapMs));
  const c = process.cpuUsage(c0);
  const m1 = mainThreadRunUs();
  return {
    processUs: (c.user + c.system) / wakes,
    mainUs: m0 === undefined || m1 === undefined ? undefined : (m1 - m0) / wakes,
    wallMs: performance.now() - t0,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { wakes: { type: 'string', default: '2000' }, gaps: { type: 'string', default: '1,2,5,20' } } });
  const wakes = Number(values.wakes);
  const gaps = values.gaps.split(',').map(Number);
  if (!Number.isInteger(wakes) || wakes < 1) throw new Error(`--wakes must be a positive integer, not ${values.wakes}`);
  for (const g of gaps) if (!Number.isFinite(g) || g < 0) throw new Error(`--gaps: not a number of ms ≥ 0: ${g}`);
  console.log(`wake-up cost: a Node ${process.version} timer loop, ${wakes} wake-ups per gap; CPU µs per wake-up`);
  console.log('| gap ms | process | main thread | wall ms per wake-up |');
  console.log('|---:|---:|---:|---:|');
  await measure(1, 200); // the loop's code compiled before the first figure
  for (const g of gaps) {
    const r = await measure(g, wakes);
    console.log(`| ${g} | ${r.processUs.toFixed(1)} | ${r.mainUs === undefined ? '—' : r.mainUs.toFixed(1)} | ${(r.wallMs / wakes).toFixed(2)} |`);
  }
}

await main();
