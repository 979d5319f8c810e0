import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ALERT_EVENT_TYPES, type AlertEventType } from '../alerts/alert.js';
import { deviceKey, type Scenario, type ScenarioDevice } from '../sim/scenario/index.js';
import type { ReceivedAlert } from './alert-matching.js';

// Which alert events a load test must see, and whether it saw them. Per device, the expected events must appear in
// the stream in their order (other events may lie between them: a run at high speed may add some, e.g. escalations
// of the background fleet); order across devices is not compared.

/** One alert event the run must produce. */
export interface ExpectedAlert {
  /** `tenant/device_id`, or a bare `device_id` (any tenant). */
  device: string;
  /** Event types that satisfy it (usually one; `raised` or `reactivated` where an earlier run may have left the alert open). */
  events: AlertEventType[];
  rule: string;
  /** The alert's level after the event; any when absent. */
  level?: number;
}

/** Outcome of {@link checkExpected}. */
export interface ExpectationCheck {
  expected: number;
  arrived: number;
  /** Expected events not seen, in the order given. */
  missing: ExpectedAlert[];
  /** Expectations left out because a load test cannot reproduce them (time-driven), with why. */
  skipped: { alert: ExpectedAlert; reason: string }[];
}

/** Event types driven by the gateway clock, not by a reading: a run at another speed than 1× cannot reproduce them. */
const CLOCK_DRIVEN_EVENTS: ReadonlySet<string> = new Set(['escalated', 'flapping_started', 'flapping_ended']);

/** `device event|event rule Ln`. */
export function formatExpected(x: ExpectedAlert): string {
  return `${x.device} ${x.events.join('|')} ${x.rule}${x.level === undefined ? '' : ` L${x.level}`}`;
}

function sameDevice(want: string, tenant: string, deviceId: string): boolean {
  return want.includes('/') ? want === `${tenant}/${deviceId}` : want === deviceId;
}

/**
 * Compares the events received with the expectations: per device, each expected event must be found after the one
 * matched before it (greedy, so a missing event does not hide the later ones).
 */
export function checkExpected(expected: readonly ExpectedAlert[], received: readonly ReceivedAlert[], skipped: ExpectationCheck['skipped'] = []): ExpectationCheck {
  const cursor = new Map<string, number>();
  const missing: ExpectedAlert[] = [];
  for (const x of expected) {
    const from = cursor.get(x.device) ?? 0;
    let found = -1;
    for (let i = from; i < received.length; i++) {
      const ev = (received[i] as ReceivedAlert).event;
      const a = ev.alert;
      if (sameDevice(x.device, a.tenant, a.device_id) && x.events.includes(ev.type) && a.rule_id === x.rule && (x.level === undefined || a.level === x.level)) {
        found = i;
        break;
      }
    }
    if (found < 0) missing.push(x);
    else cursor.set(x.device, found + 1);
  }
  return { expected: expected.length, arrived: expected.length - missing.length, missing, skipped };
}

/**
 * A scenario's `expect` list for a run against a gateway on the real clock: events of time-driven rules (`offline`,
 * and what follows from them) and clock-driven events (escalation, flapping) are skipped, since the run compresses
 * the scenario's time. `historical` is not compared: it depends on the gateway's RULE_HISTORY_CUTOFF_MS.
 *
 * @param clockDrivenRules ids of the rules of type `offline` (GET /api/v1/rules); default: ids ending in `.offline`
 */
export function scenarioExpectations(s: Scenario, clockDrivenRules?: ReadonlySet<string>): { expected: ExpectedAlert[]; skipped: ExpectationCheck['skipped'] } {
  const expected: ExpectedAlert[] = [];
  const skipped: ExpectationCheck['skipped'] = [];
  for (const x of s.expect) {
    const alert: ExpectedAlert = { device: deviceKey((s.devices[x.device] as ScenarioDevice).device), events: [x.event], rule: x.rule, level: x.level };
    const timeRule = clockDrivenRules ? clockDrivenRules.has(x.rule) : x.rule.endsWith('.offline');
    if (CLOCK_DRIVEN_EVENTS.has(x.event)) skipped.push({ alert, reason: `${x.event} runs on the gateway clock` });
    else if (timeRule) skipped.push({ alert, reason: `${x.rule} is a time-driven (offline) rule` });
    else expected.push(alert);
  }
  return { expected, skipped };
}

const EXPECT_FILE_SCHEMA = z.union([
  z.strictObject({ expect: z.array(z.unknown()) }).transform((f) => f.expect),
  z.array(z.unknown()),
]);

const EXPECT_ENTRY_SCHEMA = z.strictObject({
  device: z.string().min(1),
  event: z.union([z.enum(ALERT_EVENT_TYPES), z.array(z.enum(ALERT_EVENT_TYPES)).min(1)]),
  rule: z.string().min(1),
  level: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).optional(),
});

/**
 * Reads an expectations file for a capture (YAML or JSON): `expect: [ {device, event, rule, level?}, … ]` or the
 * bare list; `device` is `tenant/device_id` or a bare id, `event` one type or a list of acceptable types.
 */
export function readExpectationsFile(path: string): ExpectedAlert[] {
  const doc: unknown = parseYaml(readFileSync(path, 'utf8'));
  const list = EXPECT_FILE_SCHEMA.safeParse(doc);
  if (!list.success) throw new Error(`${path}: expected "expect: [ {device, event, rule, level?}, … ]"`);
  return list.data.map((raw, i) => {
    const e = EXPECT_ENTRY_SCHEMA.safeParse(raw);
    if (!e.success) throw new Error(`${path}: expect[${i}]: ${z.prettifyError(e.error).replaceAll('\n', '; ')}`);
    return { device: e.data.device, events: Array.isArray(e.data.event) ? e.data.event : [e.data.event], rule: e.data.rule, level: e.data.level };
  });
}
