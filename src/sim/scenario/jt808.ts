import { stringify } from 'yaml';
import {
  BATCH_TYPE,
  EXTRA,
  locationToVehiclePayload,
  vehiclePhone,
  type Jt808Body,
  type Jt808Version,
  type LocationBody,
  type LocationExtra,
} from '../../ingest/jt808/index.js';
import { validateData } from '../../kinds/validate.js';
import { vehicleKind } from '../../kinds/vehicle.js';
import type { FieldValue } from '../../pipeline/reading.js';
import { Jt808Terminal, Jt808TerminalError } from '../jt808-terminal.js';
import type { ScenarioMessage } from './messages.js';
import { deviceKey, type Scenario } from './schema.js';

// Scenario vehicle messages through simulated JT/T 808 terminals (docs/scenarios.md "JT/T 808"): the inverse of
// `locationToVehiclePayload` (src/ingest/jt808/vehicle-payload.ts). A scenario reading's `vehicle` data becomes a
// 0x0200 body; a buffered `batch: true` upload a 0x0704. What 0x0200 cannot say exactly is listed, field by field, as
// a `Jt808Difference` — never dropped silently.

/**
 * How the reading the gateway gets over JT/T 808 differs from the one it gets over MQTT, for one field:
 * - `filled`: 0x0200 always carries it (a DWORD / WORD of the base part), the scenario reading does not;
 * - `rounded`: the wire resolution (10⁻⁶°, 0.1 km/h, 1°, 1 m, 0.1 km, 0.1 L; whole seconds of time) moved the value;
 * - `changed`: another value (the status word rebuilt from the flags and the coordinates' signs; another channel);
 * - `dropped`: JT/T 808 has no way to carry it;
 * - `history`: carried, but the gateway evaluates the point as history whatever its age (0x0704 data_type 1).
 */
export type Jt808DifferenceKind = 'filled' | 'rounded' | 'changed' | 'dropped' | 'history';

export interface Jt808Difference {
  /** A `vehicle` field (src/kinds/vehicle.ts), or `ts` / `channel`. */
  field: string;
  kind: Jt808DifferenceKind;
  /** The value over MQTT (the scenario's, as the pipeline reads it); undefined when absent. */
  scenario?: FieldValue | string;
  /** The value over JT/T 808 (what `locationToVehiclePayload` gives the pipeline); undefined when absent. */
  jt808?: FieldValue | string;
  /** Why. */
  note: string;
}

/** What a vehicle's terminal last sent: 0x0200's base part is always complete, so a reading that omits a base field repeats it. */
export interface VehicleWireState {
  alarmBits: number;
  /** The status word as the scenario gave it (or built from acc_on / located), before the hemisphere and bit5 bits. */
  statusBits: number;
  lat?: number;
  lon?: number;
  altitudeM: number;
  speedKmh: number;
  headingDeg: number;
}

const STATUS_ACC_ON = 1 << 0;
const STATUS_LOCATED = 1 << 1;
const STATUS_SOUTH = 1 << 2;
const STATUS_WEST = 1 << 3;
const STATUS_COORDINATES_ENCRYPTED = 1 << 5;

/** Before a vehicle's first reading: no alarm, ACC on + located (what a vehicle without those fields is read as), no position. */
export const INITIAL_VEHICLE_WIRE_STATE: Readonly<VehicleWireState> = { alarmBits: 0, statusBits: STATUS_ACC_ON | STATUS_LOCATED, altitudeM: 0, speedKmh: 0, headingDeg: 0 };

/** Wire resolution of the numeric fields, in the field's unit (a difference within half of it is `rounded`). */
const RESOLUTION: Readonly<Record<string, number>> = {
  lat: 1e-6,
  lon: 1e-6,
  altitude_m: 1,
  speed_kmh: 0.1,
  heading_deg: 1,
  mileage_km: 0.1,
  fuel_l: 0.1,
  recorder_speed_kmh: 0.1,
};

/** The additional items (位置附加信息) the kind has fields for, in id order, with their scale (wire = value × scale). */
const EXTRA_FIELDS: readonly { field: string; id: number; scale: number }[] = [
  { field: 'mileage_km', id: EXTRA.MILEAGE, scale: 10 },
  { field: 'fuel_l', id: EXTRA.FUEL, scale: 10 },
  { field: 'recorder_speed_kmh', id: EXTRA.RECORDER_SPEED, scale: 10 },
  { field: 'ext_vehicle_bits', id: EXTRA.EXT_VEHICLE_SIGNALS, scale: 1 },
  { field: 'io_status', id: EXTRA.IO_STATUS, scale: 1 },
  { field: 'signal_strength', id: EXTRA.SIGNAL_STRENGTH, scale: 1 },
  { field: 'satellites', id: EXTRA.SATELLITES, scale: 1 },
];

const FILLED_NOTES: Readonly<Record<string, string>> = {
  alarm_bits: "0x0200 always carries the alarm DWORD: the vehicle's last alarm word is repeated (0 before any), as a terminal repeats its current alarms; over MQTT a reading without alarm_bits says nothing to the alarm-bit rules",
  status_bits: '0x0200 always carries the status DWORD: built from acc_on / located (default both set, or the last word), bit2/bit3 from the signs of lat/lon, bit5 when there is no position',
  acc_on: 'read from status bit0 (over MQTT only derived when status_bits is given)',
  located: 'read from status bit1 (over MQTT only derived when status_bits is given)',
  lat: "0x0200 always carries a position: the vehicle's last one is repeated",
  lon: "0x0200 always carries a position: the vehicle's last one is repeated",
  altitude_m: "0x0200 always carries the altitude WORD: the vehicle's last altitude is repeated (0 m before any)",
  speed_kmh: "0x0200 always carries the speed WORD: the vehicle's last speed is repeated (0 before any)",
  heading_deg: "0x0200 always carries the direction WORD: the vehicle's last heading is repeated (0 before any)",
};

function noteFor(field: string, kind: Jt808DifferenceKind): string {
  if (kind === 'filled') return FILLED_NOTES[field] ?? 'added by the JT/T 808 mapping';
  if (kind === 'rounded') return field === 'ts' ? 'BCD time has whole seconds: the device time is rounded down' : `JT/T 808 carries ${field} in steps of ${RESOLUTION[field] ?? 1}`;
  if (kind === 'dropped') {
    if (field === 'lat' || field === 'lon') return 'status bit5 (coordinates encrypted by a confidentiality plug-in) is set: the gateway leaves lat/lon out';
    if (field === 'backfill') return 'only 0x0704 data_type 1 carries backfill, and only as true: backfill false is left out (the same as absent)';
    return 'no JT/T 808 field carries it';
  }
  if (kind === 'changed' && field === 'status_bits') return 'bit0/bit1 are set from acc_on / located (explicit flags win over the bits, as src/kinds/vehicle.ts reads them), bit2/bit3 from the signs of lat/lon, bit5 when there is no position';
  return `JT/T 808 gives ${field} another value`;
}

/** One scenario reading as a JT/T 808 location. */
export interface Jt808Location {
  /** The 0x0200 body (also a 0x0704 item). */
  body: LocationBody;
  /** Goes in a 0x0704 data_type 1 (盲区补报): the reading has `backfill: true`. */
  backfill: boolean;
  /** The wire state after it (pass it to the vehicle's next reading). */
  state: VehicleWireState;
  /** Where the reading the gateway gets differs from the MQTT one (empty: identical fields). */
  differences: Jt808Difference[];
}

const num = (data: Readonly<Record<string, unknown>>, k: string): number | undefined => (typeof data[k] === 'number' ? data[k] : undefined);
const bool = (data: Readonly<Record<string, unknown>>, k: string): boolean | undefined => (typeof data[k] === 'boolean' ? data[k] : undefined);
const setBit = (word: number, bit: number, on: boolean): number => (on ? word | bit : word & ~bit) >>> 0;

/** The fields the pipeline makes of a `vehicle` payload's `data` (schema + toFields, as over MQTT). */
function readingFields(data: unknown, what: string): Record<string, FieldValue> {
  const v = validateData(vehicleKind, data, 'data');
  if (!v.ok) throw new RangeError(`${what}: not a valid vehicle reading: ${v.errors.map((e) => e.message).join('; ')}`);
  return v.fields;
}

/**
 * A scenario `vehicle` reading (`data` of src/kinds/vehicle.ts, device time `ts`) → the 0x0200 body that
 * `locationToVehiclePayload` maps back to it:
 *
 * | field | 0x0200 |
 * |---|---|
 * | `alarm_bits` | alarm DWORD, unchanged |
 * | `status_bits`, `acc_on`, `located` | status DWORD; `acc_on` / `located` set bit0 / bit1 (explicit flags win, as the kind reads them) |
 * | `lat`, `lon` | ×10⁶ unsigned, the sign in status bit2 / bit3 |
 * | `altitude_m` | WORD, two's complement below sea level |
 * | `speed_kmh`, `heading_deg` | ×10, integer degrees |
 * | `mileage_km`, `fuel_l`, `recorder_speed_kmh` | additional items 0x01, 0x02, 0x03 (×10) |
 * | `ext_vehicle_bits`, `io_status`, `signal_strength`, `satellites` | additional items 0x25, 0x2A, 0x30, 0x31 |
 * | `backfill: true` | not in 0x0200: the point goes in a 0x0704 data_type 1 (`backfill` in the result) |
 * | `ts` | BCD GMT+8, whole seconds |
 *
 * The base part is always complete on the wire: a base field the reading omits repeats the vehicle's last value
 * (`state`; alarm 0, ACC on + located, 0 m, 0 km/h, 0° before any), and a vehicle that never gave a position has
 * status bit5 set, so the gateway leaves lat/lon out as the MQTT reading does. Every field the gateway then reads
 * differently from the MQTT reading is in `differences`.
 */
export function vehicleDataToLocation(data: Readonly<Record<string, unknown>>, ts: number, state: Readonly<VehicleWireState> = INITIAL_VEHICLE_WIRE_STATE): Jt808Location {
  let status = num(data, 'status_bits') ?? state.statusBits;
  const acc = bool(data, 'acc_on');
  if (acc !== undefined) status = setBit(status, STATUS_ACC_ON, acc);
  const located = bool(data, 'located');
  if (located !== undefined) status = setBit(status, STATUS_LOCATED, located);
  status >>>= 0;
  const lat = num(data, 'lat') ?? state.lat;
  const lon = num(data, 'lon') ?? state.lon;
  let wireStatus = status;
  if (lat === undefined && lon === undefined) wireStatus = setBit(wireStatus, STATUS_COORDINATES_ENCRYPTED, true);
  else wireStatus = setBit(setBit(wireStatus, STATUS_SOUTH, (lat ?? 0) < 0), STATUS_WEST, (lon ?? 0) < 0);
  const next: VehicleWireState = {
    alarmBits: (num(data, 'alarm_bits') ?? state.alarmBits) >>> 0,
    statusBits: status,
    lat,
    lon,
    altitudeM: num(data, 'altitude_m') ?? state.altitudeM,
    speedKmh: num(data, 'speed_kmh') ?? state.speedKmh,
    headingDeg: num(data, 'heading_deg') ?? state.headingDeg,
  };
  const extras: LocationExtra[] = [];
  for (const x of EXTRA_FIELDS) {
    const v = num(data, x.field);
    if (v !== undefined) extras.push({ id: x.id, value: Math.round(v * x.scale) });
  }
  const body: LocationBody = {
    alarmBits: next.alarmBits,
    statusBits: wireStatus,
    latE6: Math.round(Math.abs(lat ?? 0) * 1e6),
    lonE6: Math.round(Math.abs(lon ?? 0) * 1e6),
    altitudeM: Math.round(next.altitudeM) & 0xffff,
    speedDeciKmh: Math.round(next.speedKmh * 10),
    direction: Math.round(next.headingDeg) % 360,
    time: Math.floor(ts / 1000) * 1000,
    extras,
  };
  const backfill = data.backfill === true;

  const differences: Jt808Difference[] = [];
  if (body.time !== ts) differences.push({ field: 'ts', kind: 'rounded', scenario: ts, jt808: body.time, note: noteFor('ts', 'rounded') });
  const want = readingFields(data, 'scenario reading');
  const got = readingFields(locationToVehiclePayload(body, { backfill }).data, 'JT/T 808 reading');
  for (const field of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = want[field];
    const b = got[field];
    if (a === b) continue;
    let kind: Jt808DifferenceKind;
    if (a === undefined) kind = 'filled';
    else if (b === undefined) kind = 'dropped';
    else if (typeof a === 'number' && typeof b === 'number' && RESOLUTION[field] !== undefined && Math.abs(a - b) <= (RESOLUTION[field] as number) / 2 + 1e-9) kind = 'rounded';
    else kind = 'changed';
    differences.push({ field, kind, scenario: a, jt808: b, note: noteFor(field, kind) });
  }
  if (backfill) {
    differences.push({
      field: 'backfill',
      kind: 'history',
      scenario: true,
      jt808: true,
      note: 'sent in a 0x0704 data_type 1 (盲区补报), the only JT/T 808 form of backfill: the gateway evaluates the point as history whatever its age (over MQTT only when older than RULE_HISTORY_CUTOFF_MS)',
    });
  }
  return { body, backfill, state: next, differences };
}

/** One scenario message as JT/T 808 messages. */
export interface Jt808Conversion {
  /**
   * What the terminal sends, in order: a 0x0200 for a single reading; a 0x0704 data_type 0 for a buffered upload
   * (`readings[]`: each point judged by its age, as over MQTT); readings with `backfill: true` in a 0x0704 data_type 1
   * (a buffered upload mixing both is split into runs, order kept).
   */
  bodies: Jt808Body[];
  differences: Jt808Difference[];
}

/**
 * Converts a vehicle's scenario messages in sending order, keeping its wire state (the base fields a reading omits
 * repeat the vehicle's last values). One converter per scenario: it keeps a state per device.
 */
export class ScenarioJt808Converter {
  private readonly states = new Map<string, VehicleWireState>();

  /** A `vehicle` message of `scenarioMessages` → JT/T 808 bodies. Throws for another kind. */
  convert(m: ScenarioMessage): Jt808Conversion {
    if (m.kind !== 'vehicle') throw new RangeError(`${m.tenant}/${m.deviceId} is a ${m.kind} device: only vehicles report over JT/T 808`);
    const key = `${m.tenant}/${m.deviceId}`;
    const payload = JSON.parse(m.payload) as { readings?: { data: Record<string, unknown> }[]; data?: Record<string, unknown> };
    const batch = payload.readings !== undefined;
    const datas = payload.readings?.map((r) => r.data) ?? [payload.data ?? {}];
    const differences: Jt808Difference[] = [];
    const channel = m.topic.slice(m.topic.lastIndexOf('/') + 1);
    if (channel !== 'telemetry') {
      differences.push({ field: 'channel', kind: 'changed', scenario: channel, jt808: 'telemetry', note: 'JT/T 808 locations always go in as telemetry readings' });
    }
    let state = this.states.get(key) ?? INITIAL_VEHICLE_WIRE_STATE;
    const points = datas.map((data, i) => {
      const loc = vehicleDataToLocation(data, m.readingTs[i] as number, state);
      state = loc.state;
      differences.push(...loc.differences);
      return loc;
    });
    this.states.set(key, state);
    const bodies: Jt808Body[] = [];
    for (let i = 0; i < points.length; ) {
      const backfill = (points[i] as Jt808Location).backfill;
      let j = i;
      while (j < points.length && (points[j] as Jt808Location).backfill === backfill) j++;
      const run = points.slice(i, j).map((p) => p.body);
      if (!batch && !backfill) bodies.push({ type: 'location', ...(run[0] as LocationBody) });
      else bodies.push({ type: 'location_batch', dataType: backfill ? BATCH_TYPE.BLIND_AREA : BATCH_TYPE.NORMAL, locations: run });
      i = j;
    }
    return { bodies, differences };
  }
}

/** First phone given to a vehicle that has none (`attrs.jt808_phone` / a numeric device id): 14 400 000 000 + n. */
const ASSIGNED_PHONE_BASE = 14_400_000_000;

/**
 * The terminal phone of each vehicle of the scenario, by `tenant/device_id`: its own (`attrs.jt808_phone`, or a device
 * id of 1–20 digits — docs/jt808.md "Registry attributes"), else one assigned here, which the registry must hold as
 * `attrs.jt808_phone` (`scenarioJt808SeedYaml`).
 */
export function scenarioJt808Phones(s: Scenario): Map<string, string> {
  const phones = new Map<string, string>();
  const vehicles = s.devices.filter((d) => d.device.kind === 'vehicle');
  const taken = new Set<string>();
  for (const d of vehicles) {
    const own = vehiclePhone(d.device);
    if (own === undefined) continue;
    const raw = d.device.attrs.jt808_phone;
    phones.set(deviceKey(d.device), raw === undefined || raw === '' || typeof raw === 'boolean' ? d.device.deviceId : String(raw).trim());
    taken.add(own);
  }
  let n = 0;
  for (const d of vehicles) {
    if (phones.has(deviceKey(d.device))) continue;
    let phone: string;
    do phone = String(ASSIGNED_PHONE_BASE + n++);
    while (taken.has(phone));
    taken.add(phone);
    phones.set(deviceKey(d.device), phone);
  }
  return phones;
}

/** The phones of `phones` the scenario's devices do not carry (a vehicle without `attrs.jt808_phone` or a numeric id), by `tenant/device_id`. */
export function scenarioJt808AssignedPhones(s: Scenario, phones: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of s.devices) {
    if (d.device.kind !== 'vehicle' || vehiclePhone(d.device) !== undefined) continue;
    const phone = phones.get(deviceKey(d.device));
    if (phone !== undefined) out.set(deviceKey(d.device), phone);
  }
  return out;
}

/** `scenarioSeedYaml` for a JT/T 808 run: vehicles without a phone of their own get `attrs.jt808_phone` (nothing else changes). */
export function scenarioJt808SeedYaml(s: Scenario, phones: ReadonlyMap<string, string> = scenarioJt808Phones(s)): string {
  const assigned = scenarioJt808AssignedPhones(s, phones);
  return stringify({
    name: `scenario-${s.name}`,
    description: s.title,
    tenants: s.tenants,
    devices: s.devices.map((d) => {
      const phone = assigned.get(deviceKey(d.device));
      return phone === undefined ? d.input : { ...d.input, attrs: { ...d.input.attrs, jt808_phone: phone } };
    }),
  });
}

/** A difference with how often it occurred (all readings of all vehicles). */
export interface Jt808DifferenceCount extends Jt808Difference {
  /** Readings (or messages, for `channel`) it occurred in. */
  count: number;
  /** `tenant/device_id` of its first occurrence. */
  device: string;
}

/** Options of {@link ScenarioJt808Terminals}. */
export interface ScenarioJt808Options {
  host: string;
  port: number;
  scenario: Scenario;
  /** Phones by `tenant/device_id`. Default `scenarioJt808Phones(scenario)`. */
  phones?: ReadonlyMap<string, string>;
  /** Header edition. Default 2013; 2019 for a phone of more than 12 digits (the 2013 header holds 12). */
  version?: Jt808Version;
  /** How long a message waits for its 0x8001, ms. Default 10 000. */
  replyTimeoutMs?: number;
}

/**
 * The scenario's vehicles as simulated JT/T 808 terminals (src/sim/jt808-terminal.ts): each connects, registers and
 * authenticates before its first message (lazily, so the login is a sign of life at the vehicle's first report, not
 * before), then sends each of its messages as 0x0200 / 0x0704 and waits for 0x8001 result 0 — the gateway has taken
 * the points once it answers. No 0x0002 heartbeats: a scenario's silence stays silence, as over MQTT. A terminal
 * whose connection was closed (the gateway's heartbeat timeout) logs in again before its next message.
 */
export class ScenarioJt808Terminals {
  readonly phones: ReadonlyMap<string, string>;
  /** Scenario messages sent, JT/T 808 messages sent (0x0200 + 0x0704), points in them, logins (first + again). */
  readonly stats = { messages: 0, jt808Messages: 0, points: 0, logins: 0 };
  private readonly opts: ScenarioJt808Options;
  private readonly converter = new ScenarioJt808Converter();
  private readonly terminals = new Map<string, Jt808Terminal>();
  private readonly counts = new Map<string, Jt808DifferenceCount>();

  constructor(opts: ScenarioJt808Options) {
    this.opts = opts;
    this.phones = opts.phones ?? scenarioJt808Phones(opts.scenario);
  }

  /** True for a message to send here (a vehicle's) rather than publish over MQTT. */
  handles(m: ScenarioMessage): boolean {
    return m.kind === 'vehicle';
  }

  /** Sends one vehicle message; resolves once the gateway answered every JT/T 808 message of it with result 0. */
  async send(m: ScenarioMessage): Promise<Jt808Conversion> {
    const conv = this.converter.convert(m);
    const key = `${m.tenant}/${m.deviceId}`;
    for (const d of conv.differences) {
      const k = `${d.field}\u0000${d.kind}`;
      const c = this.counts.get(k);
      if (c) c.count++;
      else this.counts.set(k, { ...d, count: 1, device: key });
    }
    for (const body of conv.bodies) {
      let t = await this.terminal(key);
      let result: number;
      try {
        result = (await t.request(body)).result;
      } catch (err) {
        // The gateway closed an idle session just as the message left: log in again and send it once more.
        if (!(err instanceof Jt808TerminalError) || t.connected) throw err;
        t = await this.terminal(key);
        result = (await t.request(body)).result;
      }
      if (result !== 0) throw new Jt808TerminalError(`${key} (phone ${t.phone}): the gateway answered ${body.type === 'location' ? '0x0200' : '0x0704'} with 0x8001 result ${result} (1 = refused: not authenticated, backpressure or handler failure; 2 = malformed)`);
      this.stats.jt808Messages++;
      this.stats.points += body.type === 'location' ? 1 : body.type === 'location_batch' ? body.locations.length : 0;
    }
    this.stats.messages++;
    return conv;
  }

  /** Every difference met so far, with its count, in first-seen order. */
  differences(): Jt808DifferenceCount[] {
    return [...this.counts.values()];
  }

  /** Closes every terminal's connection (a TCP close, no 0x0003: the auth codes stay valid). */
  close(): void {
    for (const t of this.terminals.values()) t.close();
  }

  private async terminal(key: string): Promise<Jt808Terminal> {
    let t = this.terminals.get(key);
    if (t?.connected) return t;
    if (!t) {
      const phone = this.phones.get(key);
      if (phone === undefined) throw new RangeError(`${key}: no JT/T 808 phone (attrs.jt808_phone or a numeric device id)`);
      const device = this.opts.scenario.devices.find((d) => deviceKey(d.device) === key)?.device;
      const plate = device?.attrs.plate;
      t = new Jt808Terminal({
        host: this.opts.host,
        port: this.opts.port,
        phone,
        version: this.opts.version ?? (phone.length > 12 ? 2019 : 2013),
        plate: typeof plate === 'string' ? plate : undefined,
        replyTimeoutMs: this.opts.replyTimeoutMs,
      });
      this.terminals.set(key, t);
    }
    try {
      await t.connect();
      await t.login();
    } catch (err) {
      t.close(); // not left connected unauthenticated: the next message tries again from the start
      throw err;
    }
    this.stats.logins++;
    return t;
  }
}

/** The differences as text lines for a person (`riskgate simulate --jt808`, test failures). */
export function formatJt808Differences(diffs: readonly Jt808DifferenceCount[]): string[] {
  const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));
  return diffs.map((d) => `${d.field} ${d.kind} in ${d.count} reading${d.count === 1 ? '' : 's'} (first ${d.device}: ${show(d.scenario)} → ${show(d.jt808)}): ${d.note}`);
}
