import { describe, expect, test } from 'vitest';
import { Route, RouteDriver, bearingDeg, distanceM, type LatLon } from '../../../src/sim/route.js';

/** Noon Beijing time. */
const NOON = Date.UTC(2025, 2, 15, 4, 0, 0);
/** A straight road 10 km due east along 30.6° N, then 5 km due north. */
const EAST_THEN_NORTH: LatLon[] = [
  [30.6, 104.0],
  [30.6, 104.0 + 10 / (111.2 * Math.cos((30.6 * Math.PI) / 180))],
  [30.6 + 5 / 111.2, 104.0 + 10 / (111.2 * Math.cos((30.6 * Math.PI) / 180))],
];

describe('sim/route', () => {
  test('distance and bearing follow the great circle (north 0, east 90, clockwise)', () => {
    expect(distanceM([30.6, 104.0], [30.7, 104.0])).toBeCloseTo(11_119, -1);
    expect(bearingDeg([30.6, 104.0], [30.7, 104.0])).toBeCloseTo(0, 5);
    expect(bearingDeg([30.6, 104.0], [30.6, 104.1])).toBeCloseTo(90, 0);
    expect(bearingDeg([30.7, 104.0], [30.6, 104.0])).toBeCloseTo(180, 5);
    expect(bearingDeg([30.6, 104.1], [30.6, 104.0])).toBeCloseTo(270, 0);
  });

  test('an open route is driven out and back: 2 × its length per lap, heading reversed on the way back', () => {
    const r = new Route(EAST_THEN_NORTH);
    expect(r.closed).toBe(false);
    expect(r.lapM).toBeCloseTo(30_000, -2);
    expect(r.at(5_000).headingDeg).toBeCloseTo(90, 0);
    expect(r.at(12_000).headingDeg).toBeCloseTo(0, 0);
    expect(r.at(17_000).headingDeg).toBeCloseTo(180, 0);
    expect(r.at(25_000).headingDeg).toBeCloseTo(270, 0);
    // Half way out along the first leg, the same place on the way back.
    const out = r.at(5_000);
    const back = r.at(r.lapM - 5_000);
    expect(out.lat).toBeCloseTo(back.lat, 9);
    expect(out.lon).toBeCloseTo(back.lon, 9);
  });

  test('a closed route (last point = first) is a loop', () => {
    const square: LatLon[] = [[30.6, 104.0], [30.6, 104.01], [30.61, 104.01], [30.61, 104.0], [30.6, 104.0]];
    const r = new Route(square);
    expect(r.closed).toBe(true);
    const p = r.at(r.lapM + 10);
    expect(p.lat).toBeCloseTo(30.6, 6);
    expect(p.headingDeg).toBeCloseTo(90, 0);
  });

  test('a vehicle moves speed × time along its route and reports position, heading and mileage', () => {
    const driver = new RouteDriver(new Route(EAST_THEN_NORTH), { startAlongM: 0, odometerKm: 1000, dwellS: 0 });
    driver.step(NOON, 72);
    // 72 km/h = 20 m/s; 30 s later it is 600 m east of the start.
    const s = driver.step(NOON + 30_000, 72);
    expect(distanceM(EAST_THEN_NORTH[0] as LatLon, [s.lat, s.lon])).toBeCloseTo(600, 0);
    expect(s.headingDeg).toBeCloseTo(90, 0);
    expect(s.mileageKm).toBeCloseTo(1000.6, 6);
    expect(s.moving).toBe(true);
    // 20 minutes at 36 km/h = 12 km: past the corner, 2 km up the northern leg.
    const t = driver.step(NOON + 30_000 + 20 * 60_000, 36);
    expect(t.headingDeg).toBeCloseTo(0, 0);
    expect(distanceM(EAST_THEN_NORTH[1] as LatLon, [t.lat, t.lon])).toBeCloseTo(2600, -1);
  });

  test('every reported position lies on the polyline', () => {
    const driver = new RouteDriver(new Route(EAST_THEN_NORTH), { startAlongM: 1234, odometerKm: 0, dwellS: 0 });
    const [a, b, c] = EAST_THEN_NORTH as [LatLon, LatLon, LatLon];
    for (let i = 0; i < 200; i++) {
      const s = driver.step(NOON + i * 30_000, 50 + (i % 7) * 5);
      const onFirst = Math.abs(s.lat - a[0]) < 1e-9 && s.lon >= a[1] - 1e-9 && s.lon <= b[1] + 1e-9;
      const onSecond = Math.abs(s.lon - c[1]) < 1e-9 && s.lat >= b[0] - 1e-9 && s.lat <= c[0] + 1e-9;
      expect(onFirst || onSecond, `reading ${i}: ${s.lat},${s.lon}`).toBe(true);
    }
  });

  test('the vehicle stops dwell_s at the far end before driving back', () => {
    const r = new Route([[30.6, 104.0], [30.6, 104.01]]);
    const driver = new RouteDriver(r, { startAlongM: r.farEndM - 100, odometerKm: 0, dwellS: 600 });
    driver.step(NOON, 36);
    const arrive = driver.step(NOON + 30_000, 36); // 300 m possible, 100 m to the end
    expect(arrive.speedKmh).toBe(0);
    expect(arrive.lon).toBeCloseTo(104.01, 9);
    expect(arrive.mileageKm).toBeCloseTo(0.1, 6);
    expect(driver.step(NOON + 300_000, 36).moving).toBe(false);
    // Dwell over at NOON + 630 s; 10 s later it has driven 100 m back west.
    const again = driver.step(NOON + 640_000, 36);
    expect(again.moving).toBe(true);
    expect(again.headingDeg).toBeCloseTo(270, 0);
  });

  test('outside its hours the vehicle is parked with the ignition off', () => {
    const driver = new RouteDriver(new Route(EAST_THEN_NORTH), { startAlongM: 0, odometerKm: 0, dwellS: 0, hours: [6, 22] });
    const threeAm = Date.UTC(2025, 2, 14, 19, 0, 0); // 03:00 Beijing
    driver.step(threeAm, 60);
    const s = driver.step(threeAm + 60_000, 60);
    expect(s).toMatchObject({ speedKmh: 0, moving: false, accOn: false, mileageKm: 0 });
    const day = driver.step(NOON, 60);
    expect(day.accOn).toBe(true);
  });
});
