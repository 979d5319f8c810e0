import { z } from 'zod';
import { ALERT_EVENT_TYPES, type AlertEventType } from '../../alerts/alert.js';
import { MAX_BATCH_READINGS } from '../../kinds/envelope.js';
import type { Channel } from '../../pipeline/reading.js';
import { DEVICE_INPUT_SCHEMA, deviceFromInput, type Device } from '../../registry/device-registry.js';
import { TENANT_INPUT_SCHEMA, type TenantInput } from '../../registry/tenant-store.js';
import type { AlertLevel } from '../../rules/types.js';
import { DATA_SPEC, OFFSET, type ValueSpec } from './value-spec.js';

// The YAML form of a scenario (devices/scenarios/*.yaml, docs/scenarios.md): snake_case keys, offsets as durations
// relative to `start`; parsed into the camelCase `Scenario` the runner works on.

/** How a reading's `ts` is written on the wire (README "Wire contract"). */
export const TS_FORMATS = ['epoch_ms', 'beijing', 'iso'] as const;
export type TsFormat = (typeof TS_FORMATS)[number];

/** Most readings one timeline entry may produce (a guard against `every: 1ms` over hours). */
export const MAX_READINGS_PER_ENTRY = 20_000;

/** A device of the scenario: the registry record as written (snake_case, for a REGISTRY_SEED file) and as the registry holds it. */
export interface ScenarioDevice {
  input: z.output<typeof DEVICE_INPUT_SCHEMA>;
  device: Device;
}

/** One timeline entry, normalised: the scenario offsets of its readings and when they are sent. */
export interface TimelineEntry {
  /** Index into `Scenario.devices`. */
  device: number;
  channel: Channel;
  tsFormat: TsFormat;
  /** Device-time offsets of the readings, ms after `start`, increasing. */
  readingOffsetsMs: number[];
  /** Send all readings in one `{readings: [...]}` message at this offset (a buffered upload); undefined = each at its own time. */
  batchAtMs?: number;
  data: Record<string, ValueSpec>;
}

/** One alert event the scenario must produce. */
export interface ExpectedEvent {
  /** Index into `Scenario.devices`. */
  device: number;
  event: AlertEventType;
  rule: string;
  level: AlertLevel;
  /** Raised from back-dated data (alert `historical`). Default false. */
  historical: boolean;
  /** When given, the alert's title as it stood after the event must equal it. */
  title?: string;
}

/** A parsed scenario. */
export interface Scenario {
  name: string;
  title: string;
  description?: string;
  /** Epoch ms of offset 0. */
  startMs: number;
  /** The expected events depend on the Beijing time of day of `start` (vehicle windows): move it by whole days only. */
  keepTimeOfDay: boolean;
  /** Scenario length, ms: time passes (the engine ticks) until then. Default: the last message. */
  durationMs: number;
  /** Default noise seed. */
  seed: number;
  tenants: TenantInput[];
  devices: ScenarioDevice[];
  timeline: TimelineEntry[];
  expect: ExpectedEvent[];
}

const DEVICE_REF = z.string().min(1);
const CHANNEL = z.enum(['telemetry', 'event', 'status']);

const TIMELINE_ENTRY = z
  .strictObject({
    device: DEVICE_REF,
    channel: CHANNEL.default('telemetry'),
    ts_format: z.enum(TS_FORMATS).default('epoch_ms'),
    /** One reading at this offset. */
    at: OFFSET.optional(),
    /** A series: readings at from, from + every, … before until. */
    from: OFFSET.optional(),
    until: OFFSET.optional(),
    every: OFFSET.optional(),
    /** A buffered upload: the series' readings in one `readings[]` message sent at `at`. */
    batch: z.boolean().default(false),
    data: DATA_SPEC,
  })
  .superRefine((e, ctx) => {
    const series = e.from !== undefined || e.until !== undefined || e.every !== undefined;
    if (series && (e.from === undefined || e.until === undefined || e.every === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'a series needs from, until and every' });
      return;
    }
    if (!series && e.at === undefined) ctx.addIssue({ code: 'custom', path: ['at'], message: 'give at (one reading) or from/until/every (a series)' });
    if (series && e.at !== undefined && !e.batch) ctx.addIssue({ code: 'custom', path: ['at'], message: 'at with a series is the upload time of a batch: set batch: true' });
    if (e.batch && (!series || e.at === undefined)) ctx.addIssue({ code: 'custom', path: ['batch'], message: 'a batch needs from/until/every (its readings) and at (when it is uploaded)' });
    if (e.every !== undefined && e.every <= 0) ctx.addIssue({ code: 'custom', path: ['every'], message: 'must be > 0' });
    if (e.from !== undefined && e.until !== undefined && e.until <= e.from) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after from' });
    if (e.from !== undefined && e.until !== undefined && e.every !== undefined && e.every > 0 && (e.until - e.from) / e.every > MAX_READINGS_PER_ENTRY) {
      ctx.addIssue({ code: 'custom', path: ['every'], message: `more than ${MAX_READINGS_PER_ENTRY} readings in one entry` });
    }
  });

const EXPECTED_EVENT = z.strictObject({
  device: DEVICE_REF,
  event: z.enum(ALERT_EVENT_TYPES),
  rule: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'must be a rule id (lower-case a–z 0–9 _ . -)' }),
  level: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)], { message: 'must be 1 (红), 2 (橙), 3 (黄) or 4 (蓝)' }),
  historical: z.boolean().default(false),
  title: z.string().min(1).optional(),
});

/** The scenario file as written. */
export const SCENARIO_FILE_SCHEMA = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'must be kebab-case (a–z 0–9 -)' }),
  title: z.string().min(1).max(128),
  description: z.string().optional(),
  start: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with offset, e.g. 2025-03-15T11:20:00+08:00' }),
  keep_time_of_day: z.boolean().default(false),
  duration: OFFSET.optional(),
  seed: z.int().min(0).max(0xffff_ffff).default(1),
  tenants: z.array(TENANT_INPUT_SCHEMA).default([]),
  devices: z.array(DEVICE_INPUT_SCHEMA).min(1),
  timeline: z.array(TIMELINE_ENTRY).min(1),
  expect: z.array(EXPECTED_EVENT),
});
export type ScenarioFile = z.output<typeof SCENARIO_FILE_SCHEMA>;

/** Resolves `device_id` (unique in the scenario) or `tenant/device_id` to an index into `devices`. */
function resolveDevice(devices: ScenarioFile['devices'], ref: string): number | string {
  const slash = ref.indexOf('/');
  const hits = devices.flatMap((d, i) => ((slash >= 0 ? `${d.tenant}/${d.device_id}` : d.device_id) === ref ? [i] : []));
  if (hits.length === 1) return hits[0] as number;
  if (hits.length === 0) return `no device ${JSON.stringify(ref)} in devices`;
  return `${JSON.stringify(ref)} is ambiguous: write tenant/device_id`;
}

function offsets(e: ScenarioFile['timeline'][number]): number[] {
  if (e.from === undefined || e.until === undefined || e.every === undefined) return [e.at as number];
  const out: number[] = [];
  for (let t = e.from; t < e.until; t += e.every) out.push(t);
  return out;
}

/** The file schema, checked across keys (device references, times within `duration`) and turned into a {@link Scenario}. */
export const SCENARIO_SCHEMA = SCENARIO_FILE_SCHEMA.transform((f, ctx): Scenario => {
  const seen = new Set<string>();
  f.devices.forEach((d, i) => {
    const k = `${d.tenant}/${d.device_id}`;
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'device_id'], message: `device ${k} appears twice` });
    seen.add(k);
  });
  const ref = (r: string, path: (string | number)[]): number => {
    const got = resolveDevice(f.devices, r);
    if (typeof got === 'string') ctx.addIssue({ code: 'custom', path, message: got });
    return typeof got === 'number' ? got : -1;
  };
  const timeline: TimelineEntry[] = f.timeline.map((e, i) => {
    const readingOffsetsMs = offsets(e);
    if (e.batch && readingOffsetsMs.length > MAX_BATCH_READINGS) {
      ctx.addIssue({ code: 'custom', path: ['timeline', i, 'every'], message: `a batch holds at most ${MAX_BATCH_READINGS} readings (wire contract), this one ${readingOffsetsMs.length}` });
    }
    const last = readingOffsetsMs[readingOffsetsMs.length - 1] as number;
    if (e.batch && (e.at as number) < last) ctx.addIssue({ code: 'custom', path: ['timeline', i, 'at'], message: 'a batch is uploaded after its last reading' });
    return {
      device: ref(e.device, ['timeline', i, 'device']),
      channel: e.channel,
      tsFormat: e.ts_format,
      readingOffsetsMs,
      batchAtMs: e.batch ? e.at : undefined,
      data: e.data,
    };
  });
  const lastSend = Math.max(...timeline.map((e) => e.batchAtMs ?? (e.readingOffsetsMs[e.readingOffsetsMs.length - 1] as number)));
  const durationMs = f.duration ?? lastSend;
  if (f.duration !== undefined && lastSend > f.duration) {
    ctx.addIssue({ code: 'custom', path: ['duration'], message: `the timeline sends until ${lastSend / 60_000} min, after the duration` });
  }
  const expect: ExpectedEvent[] = f.expect.map((x, i) => ({
    device: ref(x.device, ['expect', i, 'device']),
    event: x.event,
    rule: x.rule,
    level: x.level,
    historical: x.historical,
    title: x.title,
  }));
  return {
    name: f.name,
    title: f.title,
    description: f.description,
    startMs: Date.parse(f.start),
    keepTimeOfDay: f.keep_time_of_day,
    durationMs,
    seed: f.seed,
    tenants: f.tenants,
    devices: f.devices.map((input) => ({ input, device: deviceFromInput(input) })),
    timeline,
    expect,
  };
});

/** A device's key as alert events name it: `tenant/device_id`. */
export function deviceKey(d: { tenant: string; deviceId: string }): string {
  return `${d.tenant}/${d.deviceId}`;
}
