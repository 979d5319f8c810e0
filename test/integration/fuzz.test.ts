// Fuzz: more than 10,000 malformed inputs over MQTT (anonymous and with a device credential), HTTP ingest (single and
// batch, device and enterprise tokens) and the pipeline in process, interleaved with valid readings. Every input is
// generated from one seed, so a failure replays exactly. Each malformed input declares the rejects it must cause; the
// gateway's counters must match those declarations reason by reason, and every valid reading must be stored as sent.
import { connect as tcpConnect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KindName } from '../../src/kinds/kind.js';
import type { RejectReason } from '../../src/pipeline/dead-letters.js';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { connectPublisher, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const SEED = Number(process.env.RG_FUZZ_SEED ?? 0x5eed2025);
const MAX_PAYLOAD = 65_536;

/** mulberry32: small, fast, and the same sequence on every run for one seed. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
  /** An index drawn with the given weights. */
  weighted(weights: readonly number[]): number {
    let r = this.next() * weights.reduce((a, b) => a + b, 0);
    for (const [i, w] of weights.entries()) if ((r -= w) < 0) return i;
    return weights.length - 1;
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
    }
    return xs;
  }
}

// ── devices and valid readings ────────────────────────────────────────────────────────────────────────────────────────

interface Dev { tenant: string; id: string; kind: KindName }
const GAS_1: Dev = { tenant: 't1', id: 'gas-1', kind: 'gas' };
const GAS_2: Dev = { tenant: 't1', id: 'gas-2', kind: 'gas' };
const EFM_1: Dev = { tenant: 't1', id: 'efm-1', kind: 'electrical_fire' };
const EFM_2: Dev = { tenant: 't2', id: 'efm-2', kind: 'electrical_fire' };
const DEVICES = [GAS_1, GAS_2, EFM_1, EFM_2];
const CHANNELS = ['telemetry', 'event', 'status'] as const;
const topicOf = (d: Dev, channel = 'telemetry'): string => `rg/v1/${d.tenant}/${d.kind}/${d.id}/${channel}`;
/** A QoS 1 publish that fails instead of hanging when the broker has closed the connection. */
async function publish(client: MqttClient, topic: string, payload: string | Buffer): Promise<string[]> {
  if (!client.connected) return [`publisher disconnected before ${topic.slice(0, 60)}`];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((r) => (timer = setTimeout(() => r([`no PUBACK for ${topic.slice(0, 60)}`]), 5000)));
  const out = await Promise.race([client.publishAsync(topic, payload, { qos: 1 }).then(() => []), timeout]);
  clearTimeout(timer);
  return out;
}
/** The one field each valid reading carries, and a harmless value for it (no alert fires). */
const FIELD: Record<string, string> = { gas: 'concentration_lel', electrical_fire: 'residual_current_ma' };
const okData = (d: Dev): string => (d.kind === 'gas' ? '{"concentration_lel":1}' : '{"residual_current_ma":10}');

interface Valid { dev: Dev; ts: number; value: number }

// ── malformed payloads: each declares the rejects it causes ───────────────────────────────────────────────────────────

interface Bad {
  payload: Buffer;
  /** One entry per reject the pipeline must count (a `readings[]` batch rejects entry by entry). */
  reasons: RejectReason[];
  /** Survives JSON.parse → JSON.stringify unchanged in meaning (so it may travel inside an HTTP batch item). */
  jsonSafe: boolean;
  category: string;
}
function bad(category: string, text: string | Buffer, reasons: RejectReason | RejectReason[], jsonSafe = true): Bad {
  const payload = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  // The size is checked before anything else: whatever else is wrong, an oversized payload is one payload_too_large.
  if (payload.length > MAX_PAYLOAD) return { category, payload, reasons: ['payload_too_large'], jsonSafe: false };
  return { category, payload, reasons: Array.isArray(reasons) ? reasons : [reasons], jsonSafe };
}
/** What the pipeline makes of bytes nobody designed: too large, not JSON, or JSON that is no reading. */
function classify(b: Buffer): RejectReason {
  if (b.length > MAX_PAYLOAD) return 'payload_too_large';
  try {
    JSON.parse(b.toString('utf8'));
    return 'schema_violation';
  } catch {
    return 'malformed_json';
  }
}
const nest = (open: string, close: string, inner: string, depth: number): string => open.repeat(depth) + inner + close.repeat(depth);
const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe4, 0xb8], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]].map((b) => Buffer.from(b));
const cat = (...parts: (string | Buffer)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));

const WRONG_FIELD: Record<string, [string, string[]][]> = {
  gas: [
    ['concentration_lel', ['true', 'null', '[]', '{}', '"27.5"', '101', '-0.1', '"NaN"', '"Infinity"', '"1e3"', '"0x10"', '""', '" 5"', '"５"']],
    ['gas_type', ['5', '"ch4"', '"METHANE"', 'null', '"CH4\\u0000"', '"🔥"', '"\\u202eCH4"', '"\\ud800"']],
    ['sensor_fault', ['"false"', '0', '1', 'null', '[]']],
    ['battery_pct', ['50.5', '-1', '101', '"50"']],
    ['alarm_level', ['3', '-1', '1.5', '"1"']],
    ['rsrp_dbm', ['-30', '-141', '"-90"', '-90.5']],
    ['imei', ['123', '"12345678901234a"', '861234567890123', '"８６１２３４５６７８９０１２３"']],
    ['fw_version', ['"固件v1"', '""', '"\\u0000"', `"${'v'.repeat(65)}"`, '"\\udfff"']],
  ],
  electrical_fire: [
    ['residual_current_ma', ['2001', '-1', '1.5', '"10"', 'true', 'null', '"NaN"']],
    ['temp_c', ['[]', '[1,2,3,4,5]', '[401]', '["1"]', '{"a":1}', '5', '[null]', '[[1]]']],
    ['current_a', ['{}', '{"d":1}', '{"a":-1}', '[1]', '{"a":"1"}', '{"a":1,"__proto__":{"polluted":"phase"}}', '{"constructor":{"prototype":{"polluted":1}}}']],
    ['arc_alarm', ['"yes"', '1', 'null']],
    ['arc_halfcycles_1s', ['121', '-1', '0.5']],
  ],
};
const HUGE = ['1e308', '-1e308', '9007199254740993', '123456789012345678901234567890', '1.7976931348623157e308'];
const NOT_FINITE = ['1e309', '-1e309'];
const BAD_TS = ['true', 'null', '{}', '[]', '"NaN"', '"Infinity"', '""', '"now"', '"2025-13-01T00:00:00Z"', '"2025-02-30T10:00:00"', '"2025-03-15T24:00:00"', '"15/03/2025 14:30"', '"2025-03-15T14:30:05+25:00"', '"1742020205000"', '"2025-03-15"', '"2025-03-15T14:30:05.1234567890Z"', '"2025-03-15T14:30:05 +08:00"', '"+002025-03-15T14:30:05Z"', '"２０２５-03-15T14:30:05Z"', '"\\ud800"', '-1', '1.5', '9007199254740991', '9007199254740993', '8640000000000001', '1e21', '1e308'];
const BAD_SEQ = ['-1', '1.5', '9007199254740993', '1e308', '"1"', 'true', 'null', '{}'];
const PROTO = ['"__proto__":{"polluted":"yes"}', '"constructor":{"prototype":{"polluted":"yes"}}', '"prototype":{"polluted":"yes"}', '"__proto__":null', '"__proto__":[]'];
const UNICODE_KEYS = ['"🔥":1', '"\\u202econcentration_lel":1', '"concentration_lel\\u0000":1', '"concentration_lel\\u200b":1', '"\\ud800":1', '"浓度":1', '"":1'];

/**
 * Relative weights of the payload categories below: random bytes, invalid UTF-8, deep nesting, huge numbers, wrong
 * type/range, wrong envelope, ts format, ts window, unicode, __proto__ keys, oversized, readings[], truncated JSON.
 */
const CATEGORY_WEIGHTS = [3, 3, 3, 3, 6, 3, 3, 2, 3, 4, 1, 3, 2];

/** One malformed payload for device `d`, sent at gateway time `now`. */
function badPayload(rng: Rng, d: Dev, now: number): Bad {
  const ok = okData(d);
  const ts = String(now - rng.int(1000, 60_000));
  const depth = rng.pick([10, 100, 1000, 10_000, 10_000]);
  switch (rng.weighted(CATEGORY_WEIGHTS)) {
    case 0: {
      const b = rng.bytes(rng.int(0, 300));
      return bad('random bytes', b, classify(b), false);
    }
    case 1: {
      const u = rng.pick(INVALID_UTF8);
      return rng.pick([
        bad('invalid utf-8', cat(`{"ts":${ts},`, u, `"data":${ok}}`), 'malformed_json', false),
        bad('invalid utf-8', cat('{"ts":"', u, `","data":${ok}}`), 'schema_violation', false),
        bad('invalid utf-8', cat(`{"ts":${ts},"data":{"`, u, '":1}}'), 'schema_violation', false),
        bad('invalid utf-8', cat(u, `{"ts":${ts},"data":${ok}}`), 'malformed_json', false),
      ]);
    }
    case 2: {
      const f = FIELD[d.kind] as string;
      const shallow = depth <= 1000;
      return rng.pick([
        bad('deep nesting', `{"ts":${ts},"data":{"${f}":${nest('[', ']', '', depth)}}}`, 'schema_violation', shallow),
        bad('deep nesting', `{"ts":${ts},"data":${nest('{"a":', '}', '1', depth)}}`, 'schema_violation', shallow),
        bad('deep nesting', nest('[', ']', '', depth), 'schema_violation', shallow),
        bad('deep nesting', `{"ts":${nest('[', ']', '1', depth)},"data":${ok}}`, 'schema_violation', shallow),
        bad('deep nesting', `{"readings":[${nest('[', ']', '', depth)}]}`, 'schema_violation', shallow),
        bad('deep nesting', `{"ts":${ts},"data":{"${f}":${nest('{"__proto__":', '}', '1', depth)}}}`, 'schema_violation', shallow),
      ]);
    }
    case 3: {
      const f = FIELD[d.kind] as string;
      return rng.pick([
        bad('huge numbers', `{"ts":${ts},"data":{"${f}":${rng.pick(HUGE)}}}`, 'schema_violation'),
        bad('huge numbers', `{"ts":${ts},"data":{"${f}":${rng.pick(NOT_FINITE)}}}`, 'schema_violation', false),
        bad('huge numbers', `{"ts":${ts},"seq":${rng.pick(BAD_SEQ)},"data":${ok}}`, 'schema_violation'),
        bad('huge numbers', `{"ts":8640000000000000,"data":${ok}}`, 'timestamp_out_of_window'),
        bad('non-JSON number tokens', `{"ts":${ts},"data":{"${f}":${rng.pick(['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '01', '+1', '.5'])}}}`, 'malformed_json', false),
      ]);
    }
    case 4: {
      const [field, values] = rng.pick(WRONG_FIELD[d.kind] as [string, string[]][]);
      return bad('wrong type or range', `{"ts":${ts},"data":{"${field}":${rng.pick(values)}}}`, 'schema_violation', !values.some((v) => v.includes('e309')));
    }
    case 5:
      return rng.pick([
        bad('wrong envelope', rng.pick(['[]', 'null', '"reading"', '5', 'true', '{}', `{"ts":${ts}}`, `{"data":${ok}}`]), 'schema_violation'),
        bad('wrong envelope', `{"ts":${ts},"data":${rng.pick(['null', '[]', '"x"', '5', 'true', '{}'])}}`, 'schema_violation'),
        bad('wrong envelope', `{"ts":${ts},"data":${ok},"extra":1}`, 'schema_violation'),
        bad('wrong envelope', `{"TS":${ts},"data":${ok}}`, 'schema_violation'),
      ]);
    case 6:
      return bad('ts format', `{"ts":${rng.pick(BAD_TS)},"data":${ok}}`, 'schema_violation');
    case 7:
      return bad('ts outside the window', `{"ts":${rng.pick(['"1999-12-31T23:59:59Z"', '"2100-01-01T00:00:00Z"', '"0000-01-01T00:00:00Z"', '"9999-12-31T23:59:59+08:00"', '0', String(now + 3_600_000), String(now - 8 * 86_400_000)])},"data":${ok}}`, 'timestamp_out_of_window');
    case 8:
      return rng.pick([
        bad('unicode', `{"ts":${ts},"data":{${rng.pick(UNICODE_KEYS)}}}`, 'schema_violation'),
        bad('unicode', `{"ts":${ts},"data":${ok},"\\u202e":1}`, 'schema_violation'),
        // A raw control character inside a string is not JSON.
        bad('unicode', `{"ts":"2025-03-15\u0000T14:30:05Z","data":${ok}}`, 'malformed_json', false),
        bad('unicode', `{"ts":${ts},"data":{"🔥🔥🔥":"مرحبا\u202eبالعالم"}}`, 'schema_violation'),
      ]);
    case 9: {
      const proto = rng.pick(PROTO);
      return rng.pick([
        bad('__proto__/constructor keys', `{${proto},"ts":${ts},"data":${ok}}`, 'schema_violation'),
        bad('__proto__/constructor keys', `{"ts":${ts},"data":{${proto},${ok.slice(1, -1)}}}`, 'schema_violation'),
        bad('__proto__/constructor keys', `{"readings":[{${proto},"ts":${ts},"data":${ok}}]}`, 'schema_violation'),
        bad('__proto__/constructor keys', `{"readings":[{"ts":${ts},"data":${ok}}],${proto}}`, 'schema_violation'),
        bad('__proto__/constructor keys', `{"ts":${ts},"data":{"${FIELD[d.kind] as string}":{${proto}}}}`, 'schema_violation'),
      ]);
    }
    case 10: {
      const size = rng.chance(0.05) ? 1_000_000 : rng.chance(0.5) ? MAX_PAYLOAD + 1 : rng.int(MAX_PAYLOAD + 2, 150_000);
      const body = `{"ts":${ts},"data":{"fw_version":"`;
      return rng.pick([
        bad('oversized payload', `${body}${'A'.repeat(size - body.length - 3)}"}}`, 'payload_too_large', false),
        bad('oversized payload', nest('[', ']', '', 100_000), 'payload_too_large', false),
      ]);
    }
    case 11: {
      // readings[]: the batch itself malformed (one reject), or k entries each bad (k rejects).
      if (rng.chance(0.4)) {
        const entry = `{"ts":${ts},"data":${ok}}`;
        return bad('readings[]', rng.pick(['{"readings":[]}', '{"readings":{}}', '{"readings":"x"}', '{"readings":null}', `{"readings":[${Array(1001).fill(entry).join(',')}]}`]), 'schema_violation');
      }
      const k = rng.int(1, 20);
      const entries: string[] = [];
      const reasons: RejectReason[] = [];
      for (let i = 0; i < k; i++) {
        const [entry, reason] = rng.pick<[string, RejectReason]>([
          ['5', 'schema_violation'],
          ['null', 'schema_violation'],
          [`{"ts":${rng.pick(BAD_TS)},"data":${ok}}`, 'schema_violation'],
          [`{"ts":${ts},"data":{"nope":1}}`, 'schema_violation'],
          [`{"ts":${ts},"data":${ok},"x":1}`, 'schema_violation'],
          [`{"ts":"2100-01-01T00:00:00Z","data":${ok}}`, 'timestamp_out_of_window'],
          [`{${rng.pick(PROTO)},"ts":${ts},"data":${ok}}`, 'schema_violation'],
        ]);
        entries.push(entry);
        reasons.push(reason);
      }
      return bad('readings[] of bad entries', `{"readings":[${entries.join(',')}]}`, reasons);
    }
    default:
      return bad('truncated JSON', `{"ts":${ts},"data":${ok}}`.slice(0, rng.int(1, 20)), 'malformed_json', false);
  }
}

/** A topic under rg/v1/ the ingest receives and must refuse (the payload itself is fine). */
function badTopic(rng: Rng): { topic: string; reason: RejectReason } {
  const seg = (): string => rng.pick(['t 1', 't1!', '租户', '🔥', '\u202et1', 't1\ud800', 'a'.repeat(65), 'a'.repeat(1000), '', 't1/']);
  const t = rng.pick<() => { topic: string; reason: RejectReason }>([
    // Not `rg/v1` itself: aedes does not deliver it to the `rg/v1/#` subscription (so it is never seen, nor counted).
    () => ({ topic: rng.pick(['rg/v1/', 'rg/v1/t1', 'rg/v1/t1/gas/gas-1', 'rg/v1/t1/gas/gas-1/telemetry/x', 'rg/v1/t1/gas/gas-1/', 'rg/v1//gas/gas-1/telemetry', 'rg/v1/t1/gas//telemetry']), reason: 'bad_topic' }),
    () => ({ topic: `rg/v1/${seg()}/gas/gas-1/telemetry`, reason: 'bad_topic' }),
    () => ({ topic: `rg/v1/t1/gas/${seg()}/telemetry`, reason: 'bad_topic' }),
    () => ({ topic: `rg/v1/t1/${rng.pick(['GAS', 'gas ', 'toaster', '燃气', 'Gas'])}/gas-1/telemetry`, reason: 'bad_topic' }),
    () => ({ topic: `rg/v1/t1/gas/gas-1/${rng.pick(['Telemetry', 'tele', 'events', 'status ', '📈'])}`, reason: 'bad_topic' }),
    // Up to 100 levels: aedes refuses more (qlobber's limit) and closes the publisher's connection.
    () => ({ topic: `rg/v1/${'a/'.repeat(rng.int(4, 97))}x`, reason: 'bad_topic' }),
    () => ({ topic: `rg/v1/${'t'.repeat(rng.int(60_000, 65_400))}/gas/gas-1/telemetry`, reason: 'bad_topic' }),
    () => ({ topic: `rg/v1/t1/gas/nope-${rng.int(1, 1e6)}/telemetry`, reason: 'unknown_device' }),
    () => ({ topic: 'rg/v1/t9/gas/gas-1/telemetry', reason: 'unknown_device' }),
    () => ({ topic: rng.pick(['rg/v1/t1/dust/gas-1/telemetry', 'rg/v1/t2/gas/smoke-1/event', 'rg/v1/t1/vehicle/efm-1/status']), reason: 'kind_mismatch' }),
  ]);
  return t();
}

// ── actions ───────────────────────────────────────────────────────────────────────────────────────────────────────────

interface Action {
  /** Malformed inputs in it (a message, a request, or a batch item). */
  malformed: number;
  /** The pipeline rejects, by reason, and the HTTP rejects, by code, it must cause. */
  reasons: RejectReason[];
  codes: string[];
  valid: Valid[];
  via: string;
  category: string;
  run: () => Promise<string[]>;
}

interface Ctx {
  gw: TestGateway;
  anon: MqttClient;
  cred: MqttClient;
  deviceToken: string;
  t1Token: string;
  t2Token: string;
  now: number;
}

async function post(ctx: Ctx, path: string, body: string | Buffer, token: string | undefined, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${ctx.gw.httpUrl}${path}`, { method: 'POST', headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), 'content-type': contentType }, body });
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, json: { text } };
  }
}

function buildActions(rng: Rng, ctx: Ctx): { actions: Action[]; garbage: Buffer[] } {
  const actions: Action[] = [];
  let tsNext = ctx.now - 30 * 60_000;
  const newValid = (dev: Dev): Valid => ({ dev, ts: tsNext++, value: dev.kind === 'gas' ? rng.int(0, 200) / 10 : rng.int(0, 100) });
  const validJson = (v: Valid): string => `{"ts":${v.ts},"seq":${v.ts % 100_000},"data":{"${FIELD[v.dev.kind] as string}":${v.value}}}`;
  const validPayload = (vs: Valid[]): string => (vs.length === 1 ? validJson(vs[0] as Valid) : `{"readings":[${vs.map(validJson).join(',')}]}`);
  const some = (dev: Dev): Valid[] => Array.from({ length: rng.chance(0.2) ? rng.int(2, 5) : 1 }, () => newValid(dev));
  const httpCheck = (r: { status: number; json: Record<string, unknown> }, status: number, accepted: number, rejected: number): string[] =>
    r.status === status && (status >= 400 && r.json.error !== undefined ? true : r.json.accepted === accepted && r.json.rejected === rejected)
      ? []
      : [`${r.status} ${JSON.stringify(r.json).slice(0, 300)} (expected ${status}, accepted ${accepted}, rejected ${rejected})`];

  // MQTT, anonymous: payloads of every kind of wrongness, and topics the ingest must refuse.
  for (let i = 0; i < 5200; i++) {
    const dev = rng.pick(DEVICES);
    const channel = rng.pick(CHANNELS);
    if (rng.chance(0.3)) {
      const { topic, reason } = badTopic(rng);
      const payload = `{"ts":${ctx.now - 1000},"data":${okData(GAS_1)}}`;
      actions.push({ via: 'mqtt', category: `topic: ${reason}`, malformed: 1, reasons: [reason], codes: [], valid: [], run: () => publish(ctx.anon, topic, payload) });
    } else {
      const b = badPayload(rng, dev, ctx.now);
      actions.push({ via: 'mqtt', category: b.category, malformed: 1, reasons: b.reasons, codes: [], valid: [], run: () => publish(ctx.anon, topicOf(dev, channel), b.payload) });
    }
  }
  // MQTT with a device credential (t1/gas-2): only its own topic, so only its payloads can be wrong.
  for (let i = 0; i < 1000; i++) {
    const b = badPayload(rng, GAS_2, ctx.now);
    const topic = topicOf(GAS_2, rng.pick(CHANNELS));
    actions.push({ via: 'mqtt (credential)', category: b.category, malformed: 1, reasons: b.reasons, codes: [], valid: [], run: () => publish(ctx.cred, topic, b.payload) });
  }
  // In process, straight into the pipeline: the outcome of each call is checked on the spot.
  for (let i = 0; i < 2000; i++) {
    const dev = rng.pick(DEVICES);
    let input: { topic: string; payload: Buffer; reasons: RejectReason[]; category: string };
    if (rng.chance(0.2)) {
      const t = badTopic(rng);
      input = { topic: t.topic, payload: Buffer.from(`{"ts":${ctx.now},"data":${okData(GAS_1)}}`), reasons: [t.reason], category: `topic: ${t.reason}` };
    } else {
      input = { topic: topicOf(dev, rng.pick(CHANNELS)), ...badPayload(rng, dev, ctx.now) };
    }
    const { topic, payload, reasons, category } = input;
    actions.push({
      via: 'pipeline',
      category,
      malformed: 1,
      reasons,
      codes: [],
      valid: [],
      run: async () => {
        const out = ctx.gw.gateway.pipeline.ingestMqtt(topic, payload);
        return out.accepted === 0 && out.rejected === reasons.length ? [] : [`pipeline ${category} ${topic.slice(0, 60)}: ${JSON.stringify(out)}, expected ${reasons.length} rejects`];
      },
    });
  }
  // HTTP: bad payloads through the single route (device and enterprise tokens, JSON or text), and requests refused
  // before the pipeline (types, sizes, parameters, tokens, scope).
  for (let i = 0; i < 1700; i++) {
    const useDevice = rng.chance(0.5);
    const dev = useDevice ? GAS_1 : rng.pick([GAS_2, EFM_1]);
    const token = useDevice ? ctx.deviceToken : ctx.t1Token;
    const path = `/api/v1/ingest/${dev.tenant}/${dev.kind}/${dev.id}?channel=${rng.pick(CHANNELS)}`;
    const b = badPayload(rng, dev, ctx.now);
    const type = rng.chance(0.8) ? 'application/json' : 'text/plain';
    // A text/plain body over 1 MiB is refused before the pipeline (fastify's limit for text); under it, the body is
    // decoded as UTF-8 and re-encoded, so invalid bytes become U+FFFD and the pipeline sees the re-encoded size.
    const sent = type === 'text/plain' ? Buffer.from(b.payload.toString('utf8'), 'utf8') : b.payload;
    const tooBig = type === 'text/plain' && b.payload.length > 1024 * 1024;
    const reasons = tooBig ? [] : sent.length > MAX_PAYLOAD ? (['payload_too_large'] as RejectReason[]) : b.reasons;
    actions.push({
      via: `http ${type}`,
      category: b.category,
      malformed: 1,
      reasons,
      codes: tooBig ? ['RG_ERR_API_BAD_REQUEST'] : [],
      valid: [],
      run: async () => httpCheck(await post(ctx, path, b.payload, token, type), tooBig ? 413 : 400, 0, reasons.length),
    });
  }
  const refusedBefore: [string, () => [string, string | Buffer, string | undefined, string], number, string][] = [
    ['unsupported content type', () => ['/api/v1/ingest/t1/gas/gas-1', `{"ts":${ctx.now},"data":{}}`, ctx.deviceToken, rng.pick(['application/x-www-form-urlencoded', 'application/octet-stream', 'text/csv', 'multipart/form-data; boundary=x', 'application/ld+json', 'image/png'])], 415, 'RG_ERR_API_BAD_REQUEST'],
    ['body over 4 MiB', () => ['/api/v1/ingest/t1/gas/gas-1', Buffer.alloc(4 * 1024 * 1024 + rng.int(1, 1024), 0x20), ctx.deviceToken, 'application/json'], 413, 'RG_ERR_API_BAD_REQUEST'],
    ['text body over 1 MiB', () => ['/api/v1/ingest/t1/gas/gas-1', 'x'.repeat(1024 * 1024 + rng.int(1, 1024)), ctx.deviceToken, 'text/plain'], 413, 'RG_ERR_API_BAD_REQUEST'],
    ['bad path parameter', () => [`/api/v1/ingest/${rng.pick(['t%201', '%E7%A7%9F', 'a'.repeat(65), 't1%F0%9F%94%A5'])}/gas/gas-1`, '{}', ctx.t1Token, 'application/json'], 400, 'RG_ERR_API_BAD_REQUEST'],
    ['bad query', () => [`/api/v1/ingest/t1/gas/gas-1?${rng.pick(['channel=foo', 'channel=', 'x=1', 'channel=telemetry&__proto__=1', 'constructor=1'])}`, '{}', ctx.deviceToken, 'application/json'], 400, 'RG_ERR_API_BAD_REQUEST'],
    ['another device', () => [`/api/v1/ingest/t1/gas/${rng.pick(['gas-2', 'gas-9'])}`, `{"ts":${ctx.now},"data":{"concentration_lel":1}}`, ctx.deviceToken, 'application/json'], 403, 'RG_ERR_AUTH_FORBIDDEN'],
    ['another tenant', () => ['/api/v1/ingest/t2/electrical_fire/efm-2', `{"ts":${ctx.now},"data":{"residual_current_ma":1}}`, ctx.t1Token, 'application/json'], 403, 'RG_ERR_AUTH_FORBIDDEN'],
    ['no or bad token', () => ['/api/v1/ingest/t1/gas/gas-1', '{}', rng.pick([undefined, 'rgt_forged', 'not-a-token', '', 'rgt_' + 'A'.repeat(200)]), 'application/json'], 401, 'RG_ERR_AUTH_REQUIRED'],
    ['batch: not JSON', () => ['/api/v1/ingest', cat('{"items":[', rng.pick(INVALID_UTF8), ']}'), ctx.t1Token, 'application/json'], 400, 'RG_ERR_INGEST_MALFORMED_JSON'],
    ['batch: wrong shape', () => ['/api/v1/ingest', rng.pick(['{}', '[]', 'null', '{"items":{}}', '{"items":[]}', '{"items":[{}]}', '{"items":[1]}', '{"items":[{"tenant":"t1","kind":"gas","device_id":"gas-1","payload":{},"__proto__":{"polluted":1}}]}', '{"items":[],"constructor":{"prototype":{"polluted":1}}}', '{"items":[{"tenant":"t 1","kind":"gas","device_id":"gas-1","payload":{}}]}', '{"items":[{"tenant":"t1","kind":"gas","device_id":"gas-1","channel":"x","payload":{}}]}', `{"items":[${Array(1001).fill('{"tenant":"t1","kind":"gas","device_id":"gas-1","payload":{}}').join(',')}]}`]), ctx.t1Token, 'application/json'], 400, 'RG_ERR_API_BAD_REQUEST'],
    ['batch: payload nested 100,000 deep', () => ['/api/v1/ingest', `{"items":[{"tenant":"t1","kind":"gas","device_id":"gas-2","payload":${nest('[', ']', '', 100_000)}}]}`, ctx.t1Token, 'application/json'], 400, 'RG_ERR_API_BAD_REQUEST'],
    ['batch: body over 4 MiB', () => ['/api/v1/ingest', `{"items":[{"tenant":"t1","kind":"gas","device_id":"gas-2","payload":"${'x'.repeat(4 * 1024 * 1024)}"}]}`, ctx.t1Token, 'application/json'], 413, 'RG_ERR_API_BAD_REQUEST'],
  ];
  for (let i = 0; i < 500; i++) {
    const [category, make, status, code] = rng.pick(refusedBefore);
    if ((category.includes('4 MiB') || category.includes('1 MiB') || category.includes('100,000')) && !rng.chance(0.1)) continue; // a few of the heavy ones
    const [path, body, token, type] = make();
    actions.push({ via: 'http', category, malformed: 1, reasons: [], codes: [code], valid: [], run: async () => httpCheck(await post(ctx, path, body, token, type), status, 0, 0) });
  }
  // HTTP batches: bad items (pipeline rejects), items outside the token's scope (counted refusals), valid items.
  for (let i = 0; i < 400; i++) {
    const items: string[] = [];
    const reasons: RejectReason[] = [];
    const codes: string[] = [];
    const valid: Valid[] = [];
    let malformed = 0;
    for (let k = rng.int(1, 6); k > 0; k--) {
      const r = rng.next();
      if (r < 0.55) {
        const dev = rng.pick([GAS_1, GAS_2, EFM_1]);
        let b = badPayload(rng, dev, ctx.now);
        while (!b.jsonSafe) b = badPayload(rng, dev, ctx.now);
        items.push(`{"tenant":"t1","kind":"${dev.kind}","device_id":"${dev.id}","channel":"${rng.pick(CHANNELS)}","payload":${b.payload.toString('utf8')}}`);
        // jsonSafe: the route re-serialises each payload (JSON.parse → JSON.stringify) before the pipeline sees it.
        reasons.push(...b.reasons);
        malformed++;
      } else if (r < 0.7) {
        items.push(`{"tenant":"t2","kind":"electrical_fire","device_id":"efm-2","payload":{"ts":${ctx.now},"data":{"residual_current_ma":1}}}`);
        codes.push('RG_ERR_AUTH_FORBIDDEN');
        malformed++;
      } else {
        const vs = some(rng.pick([GAS_1, GAS_2, EFM_1]));
        valid.push(...vs);
        items.push(`{"tenant":"t1","kind":"${vs[0]?.dev.kind as string}","device_id":"${vs[0]?.dev.id as string}","payload":${validPayload(vs)}}`);
      }
    }
    const body = `{"items":[${items.join(',')}]}`;
    actions.push({
      via: 'http batch',
      category: 'batch items',
      malformed,
      reasons,
      codes,
      valid,
      run: async () => httpCheck(await post(ctx, '/api/v1/ingest', body, ctx.t1Token), 202, valid.length, reasons.length + codes.length),
    });
  }

  // Valid readings, interleaved over every path.
  const validAction = (via: string, vs: Valid[], run: () => Promise<string[]>): Action => ({ via, category: 'valid', malformed: 0, reasons: [], codes: [], valid: vs, run });
  for (let i = 0; i < 500; i++) {
    const vs = some(rng.pick(DEVICES));
    const topic = topicOf(vs[0]?.dev as Dev, rng.pick(CHANNELS));
    actions.push(validAction('mqtt', vs, () => publish(ctx.anon, topic, validPayload(vs))));
  }
  for (let i = 0; i < 200; i++) {
    const vs = some(GAS_2);
    const topic = topicOf(GAS_2, rng.pick(CHANNELS));
    actions.push(validAction('mqtt (credential)', vs, () => publish(ctx.cred, topic, validPayload(vs))));
  }
  for (let i = 0; i < 200; i++) {
    const vs = some(rng.pick(DEVICES));
    actions.push(
      validAction('pipeline', vs, async () => {
        const out = ctx.gw.gateway.pipeline.ingestMqtt(topicOf(vs[0]?.dev as Dev), Buffer.from(validPayload(vs)));
        return out.accepted === vs.length && out.rejected === 0 ? [] : [`valid in process: ${JSON.stringify(out)}`];
      }),
    );
  }
  for (let i = 0; i < 200; i++) {
    const vs = some(GAS_1);
    actions.push(validAction('http device', vs, async () => httpCheck(await post(ctx, '/api/v1/ingest/t1/gas/gas-1', validPayload(vs), ctx.deviceToken), 202, vs.length, 0)));
  }
  for (let i = 0; i < 200; i++) {
    const vs = some(EFM_2);
    const path = `/api/v1/ingest/t2/electrical_fire/efm-2?channel=${rng.pick(CHANNELS)}`;
    const type = rng.pick(['application/json', 'text/plain']);
    actions.push(validAction('http enterprise', vs, async () => httpCheck(await post(ctx, path, validPayload(vs), ctx.t2Token, type), 202, vs.length, 0)));
  }
  // Protocol-level garbage on the MQTT port: refused by the broker, never an ingest input (not counted as one).
  const garbage = Array.from({ length: 40 }, () => rng.bytes(rng.int(1, 2000)));
  return { actions: rng.shuffle(actions), garbage };
}

async function sendGarbage(port: number, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = tcpConnect(port, '127.0.0.1', () => s.write(bytes, () => setTimeout(() => s.destroy(), 20)));
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

/** riskgate_readings_rejected_total by reason and riskgate_http_rejects_total by code. */
async function counters(httpUrl: string): Promise<{ reasons: Record<string, number>; codes: Record<string, number>; accepted: number }> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const reasons: Record<string, number> = {};
  const codes: Record<string, number> = {};
  for (const m of text.matchAll(/^riskgate_readings_rejected_total\{reason="(\w+)"\} (\d+)$/gm)) reasons[m[1] as string] = Number(m[2]);
  for (const m of text.matchAll(/^riskgate_http_rejects_total\{code="(\w+)"\} (\d+)$/gm)) codes[m[1] as string] = Number(m[2]);
  let accepted = 0;
  for (const m of text.matchAll(/^riskgate_readings_accepted_total\{kind="\w+"\} (\d+)$/gm)) accepted += Number(m[1]);
  return { reasons, codes, accepted };
}
const countBy = (xs: string[]): Record<string, number> => xs.reduce<Record<string, number>>((o, x) => ((o[x] = (o[x] ?? 0) + 1), o), {});
const minus = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => v !== 0));
const sum = (o: Record<string, number>): number => Object.values(o).reduce((s, v) => s + v, 0);

describe('fuzz', () => {
  let gw: TestGateway;
  let anon: MqttClient;
  let cred: MqttClient;
  beforeAll(async () => {
    gw = await startTestGateway({ INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '1000000', HTTP_RATE_LIMIT_PER_MIN: '1000000' });
    anon = await connectPublisher(gw.mqttUrl, 'rg-fuzz-anon');
    const c = gw.gateway.credentials.issue('t1', 'gas-2');
    cred = await mqtt.connectAsync(gw.mqttUrl, { clientId: c.username, username: c.username, password: c.password, reconnectPeriod: 0 });
  });
  afterAll(async () => {
    await anon?.endAsync();
    await cred?.endAsync();
    await gw?.stop();
  });

  test(`${SEED}: over 10,000 malformed inputs are each rejected and counted once; every valid reading is stored as sent; the process keeps serving`, async () => {
    const protoBefore = [Object.prototype, Array.prototype, Function.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join());
    const ctx: Ctx = {
      gw,
      anon,
      cred,
      now: Date.now(),
      deviceToken: gw.gateway.tokens.create({ name: 'fuzz-gas-1', role: 'device', tenant: 't1', deviceId: 'gas-1', createdBy: 'fuzz' }).token,
      t1Token: gw.gateway.tokens.create({ name: 'fuzz-t1', role: 'enterprise', tenant: 't1', createdBy: 'fuzz' }).token,
      t2Token: gw.gateway.tokens.create({ name: 'fuzz-t2', role: 'enterprise', tenant: 't2', createdBy: 'fuzz' }).token,
    };
    const { actions, garbage } = buildActions(new Rng(SEED), ctx);
    const malformed = actions.reduce((s, a) => s + a.malformed, 0);
    const valid = actions.flatMap((a) => a.valid);
    const wantReasons = countBy(actions.flatMap((a) => a.reasons));
    const wantCodes = countBy(actions.flatMap((a) => a.codes));
    expect(malformed).toBeGreaterThanOrEqual(10_000);

    const before = await counters(gw.httpUrl);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    // /healthz is asked throughout; every answer must come, and quickly.
    let probing = true;
    const health: number[] = [];
    const prober = (async () => {
      while (probing) {
        const t0 = performance.now();
        const r = await fetch(`${gw.httpUrl}/healthz`);
        health.push(r.status === 200 ? performance.now() - t0 : Number.POSITIVE_INFINITY);
        await new Promise((r2) => setTimeout(r2, 100));
      }
    })();
    const problems: string[] = [];
    const started = performance.now();
    await Promise.all(garbage.slice(0, 20).map((b) => sendGarbage(gw.gateway.broker?.port as number, b)));
    for (let i = 0; i < actions.length; i += 64) {
      const chunk = actions.slice(i, i + 64);
      for (const p of await Promise.all(chunk.map((a) => a.run().catch((err: unknown) => [`${a.via} ${a.category}: ${String(err)}`])))) problems.push(...p);
      if (problems.length > 50) break; // broken already: report rather than wait out every timeout
    }
    await Promise.all(garbage.slice(20).map((b) => sendGarbage(gw.gateway.broker?.port as number, b)));
    const wantTotal = sum(wantReasons) + sum(wantCodes);
    // Until every reject and acceptance is counted (or 20 s pass: then the comparisons below show what is missing).
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const now = await counters(gw.httpUrl);
      if (sum(minus(now.reasons, before.reasons)) + sum(minus(now.codes, before.codes)) >= wantTotal && now.accepted - before.accepted >= valid.length) break;
    }
    const sentMs = performance.now() - started;
    probing = false;
    await prober;
    loop.disable();

    // Nothing more arrives later: the counts are final.
    await new Promise((r) => setTimeout(r, 300));
    const after = await counters(gw.httpUrl);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(minus(after.reasons, before.reasons)).toEqual(wantReasons);
    expect(minus(after.codes, before.codes)).toEqual(wantCodes);
    expect(after.accepted - before.accepted).toBe(valid.length);

    // Every valid reading stored once, with its value; nothing else in those devices' window.
    await gw.gateway.batcher.flush();
    const writer = gw.gateway.writer as SqlitePointWriter;
    const first = Math.min(...valid.map((v) => v.ts));
    const last = Math.max(...valid.map((v) => v.ts));
    for (const dev of DEVICES) {
      const want = valid.filter((v) => v.dev === dev).sort((a, b) => a.ts - b.ts).map((v) => [v.ts, v.value]);
      const got = writer.query({ measurement: dev.kind, tenant: dev.tenant, device: dev.id, fromMs: first, toMs: last, limit: 100_000 }).map((p) => [p.timeMs, p.fields[FIELD[dev.kind] as string]]);
      expect({ dev: dev.id, points: got }).toEqual({ dev: dev.id, points: want });
    }

    // Still serving, not stalled, nothing polluted.
    expect(health.length).toBeGreaterThan(3);
    expect(Math.max(...health)).toBeLessThan(2000);
    expect(loop.max / 1e6).toBeLessThan(2000);
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.httpUrl}/readyz`)).status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((JSON.parse('{}') as Record<string, unknown>).polluted).toBeUndefined();
    expect([Object.prototype, Array.prototype, Function.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join())).toEqual(protoBefore);
    const byVia = countBy(actions.flatMap((a) => Array<string>(a.malformed).fill(a.via)));
    console.info(`fuzz seed ${SEED}: ${malformed} malformed inputs (${JSON.stringify(byVia)}) → ${sum(wantReasons)} pipeline rejects + ${sum(wantCodes)} HTTP rejects; ${valid.length} valid readings; ${garbage.length} garbage MQTT connections; ${Math.round(sentMs)} ms; event loop max ${Math.round(loop.max / 1e6)} ms`);
  }, 120_000);
});
