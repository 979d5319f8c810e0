import { beijingHour, shiftLevel } from './signal.js';

/** A WGS-84 point, `[lat, lon]` in degrees (the order of fleet files' `route:`). */
export type LatLon = readonly [number, number];

/** Where a vehicle is: position and heading (JT/T 808 §5.3 direction: 0–359, north = 0, clockwise). */
export interface RoutePosition {
  lat: number;
  lon: number;
  headingDeg: number;
}

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;
/** Two route ends closer than this make a closed route (a loop). */
const CLOSED_WITHIN_M = 50;

/** Great-circle (haversine) distance, metres. */
export function distanceM(a: LatLon, b: LatLon): number {
  const dLat = (b[0] - a[0]) * RAD;
  const dLon = (b[1] - a[1]) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * RAD) * Math.cos(b[0] * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing from a to b, degrees in [0, 360). */
export function bearingDeg(a: LatLon, b: LatLon): number {
  const φ1 = a[0] * RAD;
  const φ2 = b[0] * RAD;
  const Δλ = (b[1] - a[1]) * RAD;
  const θ = Math.atan2(Math.sin(Δλ) * Math.cos(φ2), Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(Δλ));
  return ((θ / RAD) % 360 + 360) % 360;
}

/**
 * A polyline a vehicle drives. A closed route (last point within 50 m of the first) is driven as a loop; an open one
 * out and back, so the vehicle never jumps from the far end to the start.
 */
export class Route {
  /** The driven path: the loop, or the route followed by its reverse. */
  private readonly path: LatLon[];
  /** Metres from the path start to each point of `path`. */
  private readonly cum: number[];
  readonly closed: boolean;
  /** Length of one lap (closed) or of the way there and back (open), metres. */
  readonly lapM: number;

  constructor(points: readonly LatLon[]) {
    if (points.length < 2) throw new Error('a route needs at least two points');
    const pts = points.map((p) => [p[0], p[1]] as const);
    this.closed = distanceM(pts[0] as LatLon, pts[pts.length - 1] as LatLon) <= CLOSED_WITHIN_M;
    this.path = this.closed ? pts : [...pts, ...pts.slice(0, -1).reverse()];
    this.cum = [0];
    for (let i = 1; i < this.path.length; i++) this.cum.push((this.cum[i - 1] as number) + distanceM(this.path[i - 1] as LatLon, this.path[i] as LatLon));
    this.lapM = this.cum[this.cum.length - 1] as number;
  }

  /** Distance along the path at which an open route's far end is reached (and `lapM` its start again). */
  get farEndM(): number {
    return this.closed ? this.lapM : this.lapM / 2;
  }

  /** Position and heading `alongM` metres along the path (any value: it wraps around the lap). */
  at(alongM: number): RoutePosition {
    if (this.lapM === 0) {
      const p = this.path[0] as LatLon;
      return { lat: p[0], lon: p[1], headingDeg: 0 };
    }
    const d = ((alongM % this.lapM) + this.lapM) % this.lapM;
    // Binary search for the leg [i, i + 1] holding d.
    let lo = 0;
    let hi = this.cum.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((this.cum[mid] as number) <= d) lo = mid;
      else hi = mid;
    }
    // Skip zero-length legs (repeated points) so the heading is that of a real leg.
    while (lo < this.path.length - 2 && (this.cum[lo + 1] as number) - (this.cum[lo] as number) === 0) lo++;
    const a = this.path[lo] as LatLon;
    const b = this.path[lo + 1] as LatLon;
    const len = (this.cum[lo + 1] as number) - (this.cum[lo] as number);
    const f = len === 0 ? 0 : (d - (this.cum[lo] as number)) / len;
    return { lat: a[0] + (b[0] - a[0]) * f, lon: a[1] + (b[1] - a[1]) * f, headingDeg: bearingDeg(a, b) };
  }
}

/** What one vehicle reports about its motion at one reading. */
export interface MotionSample extends RoutePosition {
  /** Speed actually driven (0 while stopped), km/h. */
  speedKmh: number;
  /** Odometer, km. */
  mileageKm: number;
  moving: boolean;
  /** Ignition: off outside the operating hours. */
  accOn: boolean;
}

export interface RouteDriverOptions {
  /** Where on the lap the vehicle starts, metres. */
  startAlongM: number;
  odometerKm: number;
  /** Stop at each end of an open route, and at the start of each lap of a closed one, s. */
  dwellS: number;
  /** Beijing hours it drives, `[start, end]`; parked with the ignition off outside them. Undefined: always. */
  hours?: readonly [number, number];
}

/**
 * One vehicle on its route: moves at the speed of each reading over the time since the previous one, stops `dwellS`
 * at each route end (a rest: the continuous-driving rules count a stop of 20 min as one) and parks outside its hours.
 */
export class RouteDriver {
  private readonly route: Route;
  private readonly dwellMs: number;
  private readonly hours?: readonly [number, number];
  private alongM: number;
  private odometerM: number;
  private lastMs?: number;
  private dwellUntilMs = -Infinity;

  constructor(route: Route, opts: RouteDriverOptions) {
    this.route = route;
    this.alongM = opts.startAlongM;
    this.odometerM = opts.odometerKm * 1000;
    this.dwellMs = opts.dwellS * 1000;
    this.hours = opts.hours;
  }

  /** Advances to `nowMs` at `speedKmh` and returns where the vehicle is. */
  step(nowMs: number, speedKmh: number): MotionSample {
    // Only the time since the previous reading or the end of a stop, whichever is later, is driven.
    const dtS = this.lastMs === undefined ? 0 : Math.max(0, (nowMs - Math.max(this.lastMs, this.dwellUntilMs)) / 1000);
    this.lastMs = nowMs;
    const accOn = this.hours === undefined || shiftLevel(beijingHour(nowMs), this.hours, 0) >= 0.5;
    let speed = accOn ? speedKmh : 0;
    if (nowMs < this.dwellUntilMs) speed = 0;
    else if (dtS > 0 && speed > 0) {
      let move = (speed / 3.6) * dtS;
      if (this.dwellMs > 0 && this.route.lapM > 0) {
        // Stop at the next route end and stay there for the dwell time.
        const lap = this.route.lapM;
        const inLap = ((this.alongM % lap) + lap) % lap;
        const end = !this.route.closed && inLap < this.route.farEndM ? this.route.farEndM : lap;
        if (inLap + move >= end) {
          move = end - inLap;
          this.dwellUntilMs = nowMs + this.dwellMs;
          speed = 0;
        }
      }
      this.alongM += move;
      this.odometerM += move;
    }
    return { ...this.route.at(this.alongM), speedKmh: speed, mileageKm: this.odometerM / 1000, moving: speed > 0, accOn };
  }
}
