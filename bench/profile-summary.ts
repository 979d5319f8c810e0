// Summarises a V8 CPU profile (`.cpuprofile`, from `node --cpu-prof` or `bench/hot-path.ts --profile`): the functions
// with the most self time, and optionally the most inclusive time, as a markdown table. Issue 9 item 6.
//
//   node --import tsx bench/profile-summary.ts PROFILE.cpuprofile [--top 25] [--inclusive] [--by function|file]
//        [--within ingestMqtt,pump]
//
// `--within` keeps only the samples whose stack holds one of the named functions (to cut the setup out of a
// whole-process `--cpu-prof` profile). `(garbage collector)`, `(program)` (V8 itself, outside any JS function) and
// `(idle)` are V8's own entries.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = resolve(import.meta.dirname, '..');

/** `src/rules/engine.ts`, `node_modules/zod/…`, `node:internal/…` — short enough for a table. */
function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  if (!path.startsWith('/')) return path;
  const rel = relative(ROOT, path);
  const nm = rel.lastIndexOf('node_modules/');
  return nm >= 0 ? rel.slice(nm) : rel;
}

function keyOf(f: CallFrame, by: 'function' | 'file'): string {
  const url = shortUrl(f.url);
  if (by === 'file') return url || f.functionName;
  const name = f.functionName || '(anonymous)';
  // Lines of files compiled by tsx do not match the source: name and file say enough there.
  if (url.startsWith('node_modules/') || url.startsWith('node:')) return `${name} ${url}:${f.lineNumber + 1}`;
  return url ? `${name} ${url}` : name;
}

export interface ProfileRow {
  key: string;
  selfMs: number;
  selfPct: number;
  totalMs?: number;
  totalPct?: number;
}

/** Self (and inclusive) time per function or file, largest self time first. */
export function summarise(p: CpuProfile, o: { by?: 'function' | 'file'; within?: string[] } = {}): { rows: ProfileRow[]; totalMs: number } {
  const by = o.by ?? 'function';
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stackOf = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) out.push(byId.get(at) as ProfileNode);
    return out;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalUs = 0;
  // A sample's time is the delta to the next one (the last sample gets the mean).
  const mean = p.timeDeltas.reduce((s, d) => s + d, 0) / Math.max(1, p.timeDeltas.length);
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i + 1] ?? mean;
    const stack = stackOf(p.samples[i] as number);
    if (o.within && !stack.some((n) => o.within?.includes(n.callFrame.functionName))) continue;
    totalUs += us;
    const leaf = stack[0] as ProfileNode;
    const k = keyOf(leaf.callFrame, by);
    self.set(k, (self.get(k) ?? 0) + us);
    const seen = new Set<string>();
    for (const n of stack) {
      const kk = keyOf(n.callFrame, by);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + us);
    }
  }
  const rows = [...self.keys(), ...[...total.keys()].filter((k) => !self.has(k))].map((key) => ({
    key,
    selfMs: (self.get(key) ?? 0) / 1000,
    selfPct: ((self.get(key) ?? 0) / totalUs) * 100,
    totalMs: (total.get(key) ?? 0) / 1000,
    totalPct: ((total.get(key) ?? 0) / totalUs) * 100,
  }));
  rows.sort((a, b) => b.selfMs - a.selfMs);
  return { rows, totalMs: totalUs / 1000 };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '25' },
      inclusive: { type: 'boolean', default: false },
      by: { type: 'string', default: 'function' },
      within: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (file === undefined) {
    console.error('usage: node --import tsx bench/profile-summary.ts PROFILE.cpuprofile [--top 25] [--inclusive] [--by function|file] [--within fn1,fn2]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const by = values.by === 'file' ? 'file' : 'function';
  const { rows, totalMs } = summarise(profile, { by, within: values.within?.split(',') });
  const top = Number(values.top);
  console.log(`${file}: ${totalMs.toFixed(0)} ms sampled${values.within ? ` (stacks holding ${values.within})` : ''}\n`);
  console.log(`| self % | self ms | total % | ${by} |`);
  console.log('|---:|---:|---:|---|');
  for (const r of rows.slice(0, top)) console.log(`| ${r.selfPct.toFixed(1)} | ${r.selfMs.toFixed(0)} | ${(r.totalPct ?? 0).toFixed(1)} | ${r.key.replace(/\|/g, '\\|')} |`);
  if (values.inclusive) {
    console.log(`\nmost inclusive time:\n\n| total % | total ms | ${by} |\n|---:|---:|---|`);
    const incl = [...rows].sort((a, b) => (b.totalMs ?? 0) - (a.totalMs ?? 0));
    for (const r of incl.slice(0, top)) console.log(`| ${(r.totalPct ?? 0).toFixed(1)} | ${(r.totalMs ?? 0).toFixed(0)} | ${r.key.replace(/\|/g, '\\|')} |`);
  }
}

main();
