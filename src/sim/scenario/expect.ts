import { deviceKey, type ExpectedEvent, type Scenario, type ScenarioDevice } from './schema.js';

/** What the comparison reads of an alert event (the stream's `alert_event` payload, src/alerts/alert.ts). */
export interface ObservedEvent {
  type: string;
  /** Gateway time of the event, epoch ms (shown in the report as an offset from the scenario's start). */
  at?: number;
  alert: { tenant: string; device_id: string; rule_id: string; level: number; historical: boolean; title: string };
}

/** Outcome of {@link compareEvents}. */
export interface EventComparison {
  ok: boolean;
  /** Per device, expected and got side by side where they differ; empty when `ok`. */
  report: string;
}

function expectedRow(x: ExpectedEvent): string {
  return `${x.event} ${x.rule} L${x.level}${x.historical ? ' historical' : ''}`;
}

function observedRow(e: ObservedEvent, withTitle: boolean): string {
  return `${e.type} ${e.alert.rule_id} L${e.alert.level}${e.alert.historical ? ' historical' : ''}${withTitle ? ` «${e.alert.title}»` : ''}`;
}

/** `+7m50s`: an offset for a human. */
export function formatOffset(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `+${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${sec}s`;
}

/**
 * Compares the alert events a run produced with the scenario's `expect`: per device, the same events in the same
 * order (event type, rule, level, historical, and the title where one is expected), and no event at all for any
 * other device (gateway alerts included). Order across devices is not compared.
 */
export function compareEvents(s: Scenario, observed: readonly ObservedEvent[], opts: { startMs?: number } = {}): EventComparison {
  const startMs = opts.startMs ?? s.startMs;
  const want = new Map<string, ExpectedEvent[]>();
  for (const d of s.devices) want.set(deviceKey(d.device), []);
  for (const x of s.expect) want.get(deviceKey((s.devices[x.device] as ScenarioDevice).device))?.push(x);
  const got = new Map<string, ObservedEvent[]>();
  for (const e of observed) {
    const k = `${e.alert.tenant}/${e.alert.device_id}`;
    const list = got.get(k);
    if (list) list.push(e);
    else got.set(k, [e]);
  }
  const sections: string[] = [];
  for (const k of new Set([...want.keys(), ...got.keys()])) {
    const w = want.get(k) ?? [];
    const g = got.get(k) ?? [];
    const same =
      w.length === g.length &&
      w.every((x, i) => {
        const e = g[i] as ObservedEvent;
        return e.type === x.event && e.alert.rule_id === x.rule && e.alert.level === x.level && e.alert.historical === x.historical && (x.title === undefined || e.alert.title === x.title);
      });
    if (same) continue;
    const lines = [`${k}${want.has(k) ? '' : ' (not a device of the scenario)'}:`];
    for (let i = 0; i < Math.max(w.length, g.length); i++) {
      const x = w[i];
      const e = g[i];
      const left = x ? expectedRow(x) + (x.title ? ` «${x.title}»` : '') : '—';
      const right = e ? observedRow(e, x?.title !== undefined) : '—';
      const when = e?.at !== undefined ? ` at ${formatOffset(e.at - startMs)}` : '';
      lines.push(`  ${String(i).padStart(2)} ${left === right ? ' ' : '✗'} expected ${left.padEnd(48)} got ${right}${when}`);
    }
    sections.push(lines.join('\n'));
  }
  return { ok: sections.length === 0, report: sections.join('\n') };
}
