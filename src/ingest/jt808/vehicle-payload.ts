import type { VehicleData } from '../../kinds/vehicle.js';
import type { Jt808Version } from './codec/constants.js';
import { EXTRA, extraValue, type LocationBody } from './codec/bodies/location.js';

/** The envelope the pipeline takes for a `vehicle` device (ARCHITECTURE.md wire contract): JSON-serialise and ingest. */
export interface VehiclePayload {
  /** Device time, epoch ms. */
  ts: number;
  /** The terminal's msg_seq of the 0x0200 / 0x0704 it came in. */
  seq?: number;
  data: VehicleData;
}

/** Options of {@link locationToVehiclePayload}. */
export interface VehiclePayloadOptions {
  /** msg_seq of the carrying message. */
  seq?: number;
  /** The point is a blind-area re-upload (0x0704 data_type 1): sets `backfill: true`. */
  backfill?: boolean;
}

// Status flag bits (domain.md §5.5).
const STATUS_ACC_ON = 1 << 0;
const STATUS_LOCATED = 1 << 1;
const STATUS_SOUTH = 1 << 2;
const STATUS_WEST = 1 << 3;
const STATUS_COORDINATES_ENCRYPTED = 1 << 5;

/**
 * A decoded 0x0200 location → the `vehicle` kind payload (src/kinds/vehicle.ts). Units: degrees (signed by status
 * bits 2/3), m, km/h, km, L. Values are mapped, not judged: the pipeline validates them against the kind's schema, so
 * a terminal's garbage is rejected there, counted and dead-lettered with the field named.
 *
 * - lat/lon are left out when status bit5 says a confidentiality plug-in encrypted them.
 * - altitude is read as a signed 16-bit value: the WORD cannot go below sea level, and terminals in the Turpan
 *   depression send two's complement.
 * - only the extras the kind has fields for are mapped; the rest stays in the decoded message.
 */
export function locationToVehiclePayload(loc: LocationBody, opts: VehiclePayloadOptions = {}): VehiclePayload {
  const status = loc.statusBits;
  const data: VehicleData = {
    alarm_bits: loc.alarmBits,
    status_bits: status,
    acc_on: (status & STATUS_ACC_ON) !== 0,
    located: (status & STATUS_LOCATED) !== 0,
  };
  if ((status & STATUS_COORDINATES_ENCRYPTED) === 0) {
    data.lat = ((status & STATUS_SOUTH) !== 0 ? -loc.latE6 : loc.latE6) / 1e6;
    data.lon = ((status & STATUS_WEST) !== 0 ? -loc.lonE6 : loc.lonE6) / 1e6;
  }
  data.altitude_m = loc.altitudeM >= 0x8000 ? loc.altitudeM - 0x10000 : loc.altitudeM;
  data.speed_kmh = loc.speedDeciKmh / 10;
  data.heading_deg = loc.direction;
  const tenth = (id: number): number | undefined => {
    const v = extraValue(loc, id);
    return v === undefined ? undefined : v / 10;
  };
  const set = <K extends keyof VehicleData>(key: K, value: VehicleData[K] | undefined): void => {
    if (value !== undefined) data[key] = value;
  };
  set('mileage_km', tenth(EXTRA.MILEAGE));
  set('fuel_l', tenth(EXTRA.FUEL));
  set('recorder_speed_kmh', tenth(EXTRA.RECORDER_SPEED));
  set('ext_vehicle_bits', extraValue(loc, EXTRA.EXT_VEHICLE_SIGNALS));
  set('io_status', extraValue(loc, EXTRA.IO_STATUS));
  set('signal_strength', extraValue(loc, EXTRA.SIGNAL_STRENGTH));
  set('satellites', extraValue(loc, EXTRA.SATELLITES));
  if (opts.backfill) data.backfill = true;
  const payload: VehiclePayload = { ts: loc.time, data };
  if (opts.seq !== undefined) payload.seq = opts.seq;
  return payload;
}

/** English names of the alarm flag bits (domain.md §5.4), for logs and docs; `undefined` = reserved. */
const ALARM_NAMES_COMMON: (string | undefined)[] = [
  'emergency', 'overspeed', 'fatigue_driving', 'danger_warning', 'gnss_module_fault', 'gnss_antenna_disconnected',
  'gnss_antenna_short_circuit', 'main_power_undervoltage', 'main_power_lost', 'display_fault', 'tts_module_fault',
  'camera_fault', 'ic_card_module_fault', 'overspeed_warning', 'fatigue_warning', undefined, undefined, undefined,
  'daily_driving_overtime', 'overtime_parking', 'area_in_out', 'route_in_out', 'section_drive_time', 'route_deviation',
  'vss_fault', 'fuel_abnormal', 'vehicle_stolen', 'illegal_ignition', 'illegal_displacement', 'collision_rollover',
  'rollover_warning', undefined,
];

/**
 * Names of the alarm bits set in `bits`. 2019 renames bit3 (dangerous driving behaviour) and adds bits 15–17; bit31
 * is "illegal door open" only in 2013 (domain.md §5.4 💡).
 */
export function alarmNames(bits: number, version: Jt808Version): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (((bits >>> bit) & 1) === 0) continue;
    let name = ALARM_NAMES_COMMON[bit];
    if (version === 2019) {
      if (bit === 3) name = 'dangerous_driving';
      else if (bit === 15) name = 'driving_violation';
      else if (bit === 16) name = 'tyre_pressure_warning';
      else if (bit === 17) name = 'right_turn_blind_spot';
    } else if (bit === 31) name = 'illegal_door_open';
    out.push(name ?? `reserved_bit_${bit}`);
  }
  return out;
}
