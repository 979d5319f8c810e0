import { decodeBcdTime, encodeBcdTime } from '../bcd.js';
import { ByteReader, type ByteWriter } from '../bytes.js';
import { Jt808EncodeError } from '../decode-error.js';

/** 0x0200 base part: 28 bytes before the additional items (domain.md §5.3). */
export const LOCATION_BASE_BYTES = 28;

/**
 * Additional items (位置附加信息) decoded as unsigned integers, with their wire width in bytes (domain.md §5.3).
 * An item with one of these ids but another length is kept raw.
 */
export const NUMERIC_EXTRA_BYTES: Readonly<Record<number, 1 | 2 | 4>> = {
  0x01: 4, // mileage, 1/10 km
  0x02: 2, // fuel, 1/10 L
  0x03: 2, // recorder speed, 1/10 km/h
  0x04: 2, // id of the alarm needing manual confirmation
  0x25: 4, // extended vehicle signal status bits
  0x2a: 2, // IO status bits
  0x2b: 4, // analog: AD0 low 16 bits, AD1 high
  0x30: 1, // network signal strength
  0x31: 1, // GNSS satellites
};

/** Ids of the numeric extras, by name. */
export const EXTRA = {
  MILEAGE: 0x01,
  FUEL: 0x02,
  RECORDER_SPEED: 0x03,
  MANUAL_ALARM_ID: 0x04,
  EXT_VEHICLE_SIGNALS: 0x25,
  IO_STATUS: 0x2a,
  ANALOG: 0x2b,
  SIGNAL_STRENGTH: 0x30,
  SATELLITES: 0x31,
} as const;

/** One additional item, in wire order: a known numeric item as `value`, anything else as `raw` bytes. */
export type LocationExtra = { id: number; value: number } | { id: number; raw: Buffer };

/** 0x0200 位置信息汇报, values in wire units (the vehicle payload mapping converts them). */
export interface LocationBody {
  /** Alarm flag DWORD (domain.md §5.4). */
  alarmBits: number;
  /** Status flag DWORD (domain.md §5.5): bit2 south, bit3 west. */
  statusBits: number;
  /** Latitude, degrees × 10⁶, unsigned (hemisphere in status bit2). */
  latE6: number;
  /** Longitude, degrees × 10⁶, unsigned (hemisphere in status bit3). */
  lonE6: number;
  /** Altitude WORD, metres as sent. */
  altitudeM: number;
  /** Speed, 1/10 km/h. */
  speedDeciKmh: number;
  /** 0–359, north = 0, clockwise. */
  direction: number;
  /** Device time, epoch ms (sent as BCD GMT+8). */
  time: number;
  extras: LocationExtra[];
}

/** Reads a 0x0200 body (also each item of 0x0704). Extras run to the end of `r`. */
export function readLocation(r: ByteReader): LocationBody {
  const body: LocationBody = {
    alarmBits: r.u32('alarm_flags'),
    statusBits: r.u32('status_flags'),
    latE6: r.u32('latitude'),
    lonE6: r.u32('longitude'),
    altitudeM: r.u16('altitude'),
    speedDeciKmh: r.u16('speed'),
    direction: r.u16('direction'),
    time: decodeBcdTime(r.bytes(6, 'time'), `${r.what}: time`),
    extras: [],
  };
  while (r.remaining > 0) {
    const id = r.u8('extra id');
    const len = r.u8(`extra 0x${hex2(id)} length`);
    const value = r.bytes(len, `extra 0x${hex2(id)} value`);
    const width = NUMERIC_EXTRA_BYTES[id];
    if (width === len) body.extras.push({ id, value: value.readUIntBE(0, width) });
    else body.extras.push({ id, raw: Buffer.from(value) }); // unknown or odd-length items: kept, not an error
  }
  return body;
}

export function writeLocation(w: ByteWriter, b: LocationBody): void {
  w.u32(b.alarmBits, 'alarm_flags').u32(b.statusBits, 'status_flags').u32(b.latE6, 'latitude').u32(b.lonE6, 'longitude');
  w.u16(b.altitudeM, 'altitude').u16(b.speedDeciKmh, 'speed').u16(b.direction, 'direction');
  w.bytes(encodeBcdTime(b.time, 'time'));
  for (const x of b.extras) {
    w.u8(x.id, 'extra id');
    if ('raw' in x) {
      if (x.raw.length > 0xff) throw new Jt808EncodeError(`extra 0x${hex2(x.id)} is ${x.raw.length} bytes, its length BYTE holds 255`);
      w.u8(x.raw.length, 'extra length').bytes(x.raw);
      continue;
    }
    const width = NUMERIC_EXTRA_BYTES[x.id];
    if (width === undefined) throw new Jt808EncodeError(`extra 0x${hex2(x.id)} has no numeric form; give it as raw bytes`);
    w.u8(width, 'extra length');
    if (width === 1) w.u8(x.value, `extra 0x${hex2(x.id)}`);
    else if (width === 2) w.u16(x.value, `extra 0x${hex2(x.id)}`);
    else w.u32(x.value, `extra 0x${hex2(x.id)}`);
  }
}

/** The numeric value of extra `id` (the first one, should a terminal repeat it). */
export function extraValue(b: LocationBody, id: number): number | undefined {
  for (const x of b.extras) if (x.id === id && 'value' in x) return x.value;
  return undefined;
}

/** Reads a location from a sub-buffer (0x0704 items). */
export function readLocationFrom(buf: Buffer, what: string): LocationBody {
  return readLocation(new ByteReader(buf, what));
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
