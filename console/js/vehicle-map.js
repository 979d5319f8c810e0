import { byId, replace, svg } from './dom.js';
import { formatTime, formatValue, levelText } from './labels.js';

const W = 600;
const H = 380;
/** Margins, px: the left one holds the latitude labels, the bottom one the longitude labels. */
const PAD = 24;
const LEFT = 70;
const BOTTOM = 28;
/** Grid steps, degrees: the first that gives at most 8 lines across the view. */
const STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
const LEVEL_FILL = { 1: '#d9001b', 2: '#f08c00', 3: '#f5c400', 4: '#1e6fd9' };

/**
 * Vehicles on a plain longitude/latitude grid (SVG; no map tiles, so it works offline): the newest position of each
 * vehicle the token sees (`GET /api/v1/telemetry/latest?kind=vehicle`), coloured by its most severe open alert.
 */
export class VehicleMap {
  constructor(state) {
    this.state = state;
    this.el = byId('vehicle-map');
    this.note = byId('vehicle-note');
    this.vehicles = [];
    state.onChange(() => this.render());
  }

  /** `body`: GET /api/v1/telemetry/latest?kind=vehicle. */
  update(body) {
    this.vehicles = body.devices.filter((d) => typeof d.fields.lat === 'number' && typeof d.fields.lon === 'number' && !(d.fields.lat === 0 && d.fields.lon === 0));
    this.render();
  }

  failed(message) {
    this.note.textContent = `车辆位置读取失败：${message}`;
  }

  render() {
    const vs = this.vehicles;
    this.el.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.note.textContent = vs.length === 0 ? '最近一小时内没有车辆位置。' : `${vs.length} 辆车，最近一小时内的最新位置（每 15 秒刷新）。`;
    if (vs.length === 0) {
      replace(this.el, svg('rect', { x: 0, y: 0, width: W, height: H, class: 'map-bg' }));
      return;
    }
    const lons = vs.map((v) => v.fields.lon);
    const lats = vs.map((v) => v.fields.lat);
    // At least ~2 km across, centred on the vehicles; equal scale on both axes (cos(lat) for longitude).
    const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
    const k = Math.cos((midLat * Math.PI) / 180);
    let spanLat = Math.max(Math.max(...lats) - Math.min(...lats), 0.02) * 1.2;
    let spanLon = Math.max(Math.max(...lons) - Math.min(...lons), 0.02) * 1.2;
    const aspect = (W - LEFT - PAD) / (H - PAD - BOTTOM);
    if ((spanLon * k) / spanLat < aspect) spanLon = (spanLat * aspect) / k;
    else spanLat = (spanLon * k) / aspect;
    const lon0 = (Math.min(...lons) + Math.max(...lons)) / 2 - spanLon / 2;
    const lat0 = midLat - spanLat / 2;
    const x = (lon) => LEFT + ((lon - lon0) / spanLon) * (W - LEFT - PAD);
    const y = (lat) => H - BOTTOM - ((lat - lat0) / spanLat) * (H - PAD - BOTTOM);

    const step = STEPS.find((s) => spanLon / s <= 8) ?? 10;
    const grid = [];
    for (let lon = Math.ceil(lon0 / step) * step; lon <= lon0 + spanLon; lon += step) {
      grid.push(svg('line', { x1: x(lon), y1: PAD, x2: x(lon), y2: H - BOTTOM, class: 'grid' }), svg('text', { x: x(lon), y: H - BOTTOM + 16, class: 'grid-label', 'text-anchor': 'middle' }, `${lon.toFixed(3)}°E`));
    }
    for (let lat = Math.ceil(lat0 / step) * step; lat <= lat0 + spanLat; lat += step) {
      grid.push(svg('line', { x1: LEFT, y1: y(lat), x2: W - PAD, y2: y(lat), class: 'grid' }), svg('text', { x: LEFT - 6, y: y(lat) + 4, class: 'grid-label', 'text-anchor': 'end' }, `${lat.toFixed(3)}°N`));
    }

    const worst = new Map();
    for (const a of this.state.all()) {
      if (a.kind !== 'vehicle' || a.handling === 'closed') continue;
      const key = `${a.tenant}/${a.device_id}`;
      worst.set(key, Math.min(worst.get(key) ?? 9, a.level));
    }
    const markers = vs.map((v) => {
      const level = worst.get(`${v.tenant}/${v.device_id}`);
      const cx = x(v.fields.lon);
      const cy = y(v.fields.lat);
      const heading = typeof v.fields.heading_deg === 'number' ? v.fields.heading_deg : null;
      const name = String(v.attrs?.plate ?? v.device_id);
      const tip = `${name}\u3000${formatValue(v.fields.speed_kmh)} km/h\u3000${formatTime(v.ts)}${level ? `\u3000${levelText(level)}告警` : ''}`;
      return svg(
        'g',
        { class: `vehicle${level ? ` lvl-${level}` : ''}`, 'data-device': `${v.tenant}/${v.device_id}`, transform: `translate(${cx.toFixed(1)} ${cy.toFixed(1)})` },
        svg('title', {}, tip),
        heading === null ? null : svg('path', { d: 'M0,-14 L4,-6 L-4,-6 Z', class: 'heading', transform: `rotate(${heading})` }),
        svg('circle', { r: 6, fill: level ? LEVEL_FILL[level] : '#2e7d32', class: 'dot' }),
        svg('text', { x: 12, y: 4, class: 'vehicle-label' }, name),
      );
    });
    replace(this.el, svg('rect', { x: 0, y: 0, width: W, height: H, class: 'map-bg' }), ...grid, ...markers);
  }
}
