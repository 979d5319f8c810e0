import { z } from 'zod';
import type { Reading } from '../../pipeline/reading.js';
import { DURATION, LEVEL, RULE_BASE_SHAPE } from '../rule-base.js';
import type { AlertLevel, EvalResult, RuleBase, RuleEvaluator } from '../types.js';
import { holdFor, type HoldState } from './hold-for.js';
import { VEHICLE_CLASS, vehicleClassOf } from './vehicle-common.js';

/**
 * What makes a zone's condition hold: `inside` / `outside` whenever the vehicle is there; `enter` / `leave` only once
 * the vehicle has been seen crossing the boundary that way (a vehicle first seen inside an `enter` zone does not
 * fire), and then for as long as it stays.
 */
export type ZoneTrigger = 'enter' | 'leave' | 'inside' | 'outside';

/** A polygon zone (platform-side counterpart of JT/T 808 0x8604 polygon areas and alarm bit 20 进出区域). */
export interface Zone {
  id: string;
  /** Operator-facing name, in the alert title. */
  name: string;
  /** [lat, lon] vertices, decimal degrees (WGS-84 as the terminal reports), ≥ 3; the ring closes itself. */
  polygon: [number, number][];
  alertOn: ZoneTrigger;
  /** Vehicle classes the zone applies to; undefined = every class. */
  vehicleClasses?: string[];
  /** Level for this zone; defaults to the rule's. */
  level: AlertLevel;
  /** Alert title while this zone decides it; defaults to `<rule title>(<name>)`. */
  title: string;
  /** [minLat, minLon, maxLat, maxLon], so most fixes are rejected without the ray cast. */
  bbox: [number, number, number, number];
}

export interface GeofenceRule extends RuleBase {
  type: 'geofence';
  /** In file order; when several hold the most severe level wins (the first listed among equals). */
  zones: Zone[];
  /** The condition must hold this long (device time) before the rule fires, ms. Default 0. */
  forMs: number;
}

export const DEFAULT_GEOFENCE = { level: 3, forMs: 0 } as const;

const POINT = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);

const ZONE_SCHEMA = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'must be lower-case a–z 0–9 _ . - (max 64)' }),
  name: z.string().min(1).max(64),
  polygon: z.array(POINT).min(3, { message: 'a polygon needs at least 3 [lat, lon] points' }),
  alert_on: z.enum(['enter', 'leave', 'inside', 'outside']),
  vehicle_classes: z.array(VEHICLE_CLASS).min(1).optional(),
  level: LEVEL.optional(),
  title: z.string().min(1).max(128).optional(),
});

const schema = z
  .strictObject({
    ...RULE_BASE_SHAPE,
    type: z.literal('geofence'),
    level: LEVEL.default(DEFAULT_GEOFENCE.level),
    for: DURATION.default(DEFAULT_GEOFENCE.forMs),
    zones: z.array(ZONE_SCHEMA).min(1),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.zones.forEach((zone, i) => {
      if (seen.has(zone.id)) ctx.addIssue({ code: 'custom', path: ['zones', i, 'id'], message: `zone id ${zone.id} appears twice` });
      seen.add(zone.id);
    });
  })
  .transform((r): Omit<GeofenceRule, 'kind' | 'source'> => ({
    id: r.id,
    type: 'geofence',
    title: r.title,
    standard: r.standard,
    description: r.description,
    enabled: r.enabled,
    worse: 'higher',
    forMs: r.for,
    zones: r.zones.map((zone) => ({
      id: zone.id,
      name: zone.name,
      polygon: zone.polygon,
      alertOn: zone.alert_on,
      vehicleClasses: zone.vehicle_classes,
      level: zone.level ?? r.level,
      title: zone.title ?? `${r.title}(${zone.name})`,
      bbox: [Math.min(...zone.polygon.map((p) => p[0])), Math.min(...zone.polygon.map((p) => p[1])), Math.max(...zone.polygon.map((p) => p[0])), Math.max(...zone.polygon.map((p) => p[1]))],
    })),
  }));

/** Per zone: where the vehicle was at its last fix (`in`), and whether the zone's condition holds (`on`). */
export interface ZoneState {
  in: boolean;
  on: boolean;
}

export interface GeofenceState extends HoldState {
  /** By zone id; only zones that apply to the device, pruned to the rule's zones on every fix. */
  zones: Record<string, ZoneState>;
  /** Set by a resume without state (an alert of the rule is still active) until the first fix. */
  resumed?: boolean;
}

/**
 * Ray casting (even–odd rule) on [lat, lon] taken as plane coordinates: exact enough for zones of a few km away from
 * the poles and the antimeridian.
 */
export function insidePolygon(lat: number, lon: number, polygon: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [yi, xi] = polygon[i] as readonly [number, number];
    const [yj, xj] = polygon[j] as readonly [number, number];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function insideZone(zone: Zone, lat: number, lon: number): boolean {
  const [minLat, minLon, maxLat, maxLon] = zone.bbox;
  return lat >= minLat && lat <= maxLat && lon >= minLon && lon <= maxLon && insidePolygon(lat, lon, zone.polygon);
}

/** Whether the zone's condition holds now, given where the vehicle was (`prev`) and whether an alert was resumed. */
function holds(zone: Zone, inside: boolean, prev: ZoneState | undefined, resumed: boolean): boolean {
  switch (zone.alertOn) {
    case 'inside':
      return inside;
    case 'outside':
      return !inside;
    // An alert still active after a restart without state means the crossing was seen before.
    case 'enter':
      return inside && (prev === undefined ? resumed : prev.on || !prev.in);
    case 'leave':
      return !inside && (prev === undefined ? resumed : prev.on || prev.in);
  }
}

export const geofenceEvaluator: RuleEvaluator<GeofenceRule, GeofenceState> = {
  type: 'geofence',
  schema,
  initialState: (_rule, resume) => (resume ? { firingLevel: resume.level, zones: {}, resumed: true } : { zones: {} }),
  evaluate(rule, state, reading: Reading, ctx): EvalResult | undefined {
    const { lat, lon } = reading.fields;
    // domain.md §5.5 bit1: without a fix lat/lon are stale — exclude from track rules.
    if (typeof lat !== 'number' || typeof lon !== 'number' || reading.fields.located === false) return undefined;
    const cls = vehicleClassOf(ctx.device);
    const zones: Record<string, ZoneState> = {};
    let hit: Zone | undefined;
    for (const zone of rule.zones) {
      if (zone.vehicleClasses && (cls === undefined || !zone.vehicleClasses.includes(cls))) continue;
      const inside = insideZone(zone, lat, lon);
      const on = holds(zone, inside, state.zones[zone.id], state.resumed === true);
      zones[zone.id] = { in: inside, on };
      if (on && (hit === undefined || zone.level < hit.level)) hit = zone;
    }
    state.zones = zones;
    delete state.resumed;
    return holdFor(state, hit?.level, rule.forMs, reading.ts, undefined, hit?.title);
  },
};
