import type { KindName } from '../../kinds/kind.js';
import type { ModelCatalog } from '../models.js';
import type { LatLon } from '../route.js';
import { prng } from '../signal.js';
import { COACH_CORRIDORS, COUNTIES, HAZMAT_CORRIDORS, type County } from './geo.js';
import { makeImei, makePlate, makeTerminalPhone, makeUscc } from './ids.js';
import { BRANDS, COMMERCIAL, COMPOUNDS, CUISINES, DUST_INDUSTRIES, HALL_SPOTS, KITCHEN_SPOTS } from './names.js';

// The city fleet of devices/fleets/city.yaml, generated deterministically (scripts/gen-city-fleet.ts): ~500
// enterprises of five sectors over three Chengdu districts, each with the devices its sector installs. Every device
// names a model of devices/models and carries nothing but its registry record (vehicles: their route too).

/** Knobs of the generator; {@link DEFAULT_CITY_OPTIONS} produces the committed file. */
export interface CityOptions {
  /** PRNG seed of the generator (not of the simulation). */
  seed: number;
  /** Exact number of devices. */
  devices: number;
  /** Enterprises per sector. */
  tenants: Record<Sector, number>;
}

export type Sector = 'restaurant' | 'property' | 'commercial' | 'factory' | 'transport';

export const DEFAULT_CITY_OPTIONS: CityOptions = {
  seed: 2260,
  devices: 20_000,
  tenants: { restaurant: 230, property: 60, commercial: 80, factory: 90, transport: 40 },
};

export interface CityTenant {
  tenant: string;
  name: string;
  uscc: string;
  region: string;
}

/** A device entry of the fleet file (snake_case, as written). */
export interface CityDevice {
  tenant: string;
  device_id: string;
  kind: KindName;
  model: string;
  region: string;
  site: string;
  location?: string;
  heartbeat_s: number;
  attrs?: Record<string, string | number>;
  sim?: { route: LatLon[]; fields?: Record<string, unknown> };
}

export interface CityFleet {
  tenants: CityTenant[];
  devices: CityDevice[];
}

/** Share of each sector's enterprises per district (锦江, 武侯, 双流). */
const COUNTY_WEIGHTS: Record<Sector, readonly number[]> = {
  restaurant: [0.45, 0.4, 0.15],
  property: [0.3, 0.35, 0.35],
  commercial: [0.45, 0.35, 0.2],
  factory: [0, 0.15, 0.85],
  transport: [0.1, 0.2, 0.7],
};
const PREFIX: Record<Sector, string> = { restaurant: 'rest', property: 'prop', commercial: 'comm', factory: 'fact', transport: 'tran' };
/** Coaches cruise faster than hazmat trucks (alert-rules/vehicle.yaml ceilings: coach 100, hazmat 80 km/h). */
const COACH_SPEED = { unit: 'km/h', range: [70, 88], noise: 3, walk: 0.8, decimals: 1, min: 0, max: 98 };

/** Generates the city fleet; the same options always give the same fleet. */
export function generateCityFleet(models: ModelCatalog, opts: CityOptions = DEFAULT_CITY_OPTIONS): CityFleet {
  const rand = prng(opts.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const heartbeat = (model: string): number => {
    const m = models.get(model);
    if (!m) throw new Error(`the city fleet uses model ${model}, which is not in the models directory`);
    return m.heartbeat_s;
  };
  const tenants: CityTenant[] = [];
  const devices: CityDevice[] = [];
  const names = new Set<string>();
  const usccs = new Set<string>();
  const ids = new Set<string>();
  const counters: Record<string, number> = {};
  const serial = (prefix: string): string => `${prefix}-${String((counters[prefix] = (counters[prefix] ?? 0) + 1)).padStart(5, '0')}`;
  const unique = (set: Set<string>, make: () => string): string => {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const v = make();
      if (!set.has(v)) {
        set.add(v);
        return v;
      }
    }
    throw new Error(`city fleet generator: no unused value after 10 000 draws (last: ${make()})`);
  };
  const add = (t: CityTenant, kind: KindName, model: string, deviceId: string, site: string, location?: string, extra: Partial<CityDevice> = {}): void => {
    devices.push({ tenant: t.tenant, device_id: deviceId, kind, model, region: t.region, site, ...(location ? { location } : {}), heartbeat_s: heartbeat(model), ...extra });
  };
  const newTenant = (sector: Sector, i: number, makeName: (county: County) => string): { t: CityTenant; county: County } => {
    const w = COUNTY_WEIGHTS[sector];
    let r = rand();
    let ci = 0;
    while (ci < w.length - 1 && r >= (w[ci] as number)) r -= w[ci++] as number;
    const county = COUNTIES[ci] as County;
    const name = unique(names, () => makeName(county));
    const t = { tenant: `${PREFIX[sector]}-${String(i + 1).padStart(3, '0')}`, name, uscc: unique(usccs, () => makeUscc(county.code, rand)), region: county.code };
    tenants.push(t);
    return { t, county };
  };

  // 餐饮: 1–3 shops, each with kitchen gas detectors, an electrical-fire monitor on its board and hall smoke detectors.
  for (let i = 0; i < opts.tenants.restaurant; i++) {
    const cuisine = pick(CUISINES);
    let brand = '';
    const { t, county } = newTenant('restaurant', i, () => `成都${(brand = pick(BRANDS))}${cuisine}餐饮管理有限公司`);
    for (let s = int(1, 3); s > 0; s--) {
      const shop = `${brand}${cuisine}${pick(county.areas)}店`;
      for (let g = int(1, 3); g > 0; g--) add(t, 'gas', 'RG-GD100', serial('gas'), shop, pick(KITCHEN_SPOTS));
      add(t, 'electrical_fire', 'RG-EF400', serial('efm'), shop, '一级配电箱出线侧');
      for (let k = int(1, 3); k > 0; k--) add(t, 'smoke', 'RG-YG30-4G', serial('smk'), shop, pick(HALL_SPOTS));
    }
  }
  // 商业: one or two premises with many smoke detectors, boards and (restaurants, canteens) some gas.
  for (let i = 0; i < opts.tenants.commercial; i++) {
    const kind = pick(COMMERCIAL);
    let brand = '';
    const { t, county } = newTenant('commercial', i, () => `成都${(brand = pick(BRANDS))}${kind.suffix}`);
    for (let s = int(1, 2); s > 0; s--) {
      const site = `${brand}${pick(county.areas)}${kind.site}`;
      const floors = int(3, 12);
      for (let k = int(12, 45); k > 0; k--) add(t, 'smoke', 'RG-YG30-4G', serial('smk'), site, `${int(1, floors)}F ${pick(['走廊', '客房', '库房', '机房', '营业区', '楼梯间'])}`);
      for (let k = int(3, 9); k > 0; k--) add(t, 'electrical_fire', 'RG-EF400', serial('efm'), site, `${int(1, floors)}F 配电箱`);
      for (let k = int(0, 3); k > 0; k--) add(t, 'gas', 'RG-GD100', serial('gas'), site, pick(['员工食堂后厨', '餐饮区后厨', '锅炉房']));
    }
  }
  // 粉尘涉爆: workshops with dust collectors (dry, or wet for Al/Mg), boards, sometimes a gas-fired dryer.
  for (let i = 0; i < opts.tenants.factory; i++) {
    const ind = pick(DUST_INDUSTRIES);
    const { t, county } = newTenant('factory', i, () => `四川${pick(BRANDS)}${ind.suffix}`);
    const site = `${pick(county.areas)}厂区`;
    for (let w = 1, n = int(1, 3); w <= n; w++) {
      for (let c = 1, m = int(1, 3); c <= m; c++) add(t, 'dust', ind.wet ? 'RG-DC-WET' : 'RG-DC-DRY', serial('dust'), site, `${w}#${ind.workshop} ${c}#${ind.wet ? '湿式' : '布袋'}除尘器`);
    }
    for (let k = int(2, 5); k > 0; k--) add(t, 'electrical_fire', 'RG-EF400', serial('efm'), site, `${k}#车间配电柜`);
    if (rand() < 0.3) add(t, 'gas', 'RG-GD100', serial('gas'), site, '燃气烘干炉旁');
  }
  // 两客一危: hazmat trucks and coaches, each on a road corridor (maybe driven the other way round).
  for (let i = 0; i < opts.tenants.transport; i++) {
    const coach = rand() < 0.35;
    const { t } = newTenant('transport', i, () => `四川${pick(BRANDS)}${coach ? pick(['汽车客运', '旅游客运']) : '危险货物运输'}有限公司`);
    for (let k = int(12, 38); k > 0; k--) {
      const corridor = pick(coach ? COACH_CORRIDORS : HAZMAT_CORRIDORS);
      const route = rand() < 0.5 ? corridor.points : [...corridor.points].reverse();
      const plate = unique(ids, () => makePlate(rand));
      add(t, 'vehicle', 'RG-JT808-V1', unique(ids, () => makeTerminalPhone(rand)), coach ? '客运车队' : '危货车队', undefined, {
        attrs: { plate, vehicle_class: coach ? 'coach' : 'hazmat', plate_color: 2 },
        sim: coach ? { route, fields: { speed_kmh: COACH_SPEED } } : { route },
      });
    }
  }
  // 物业: compounds with boards, arc detectors and garage smoke detectors, then NB-IoT home gas (and mostly smoke)
  // alarms per household — the households fill the fleet up to exactly `opts.devices`.
  const compounds: { t: CityTenant; county: County; name: string }[] = [];
  for (let i = 0; i < opts.tenants.property; i++) {
    const { t, county } = newTenant('property', i, () => `成都${pick(BRANDS)}${pick(['物业服务', '物业管理'])}有限公司`);
    for (let c = int(2, 5); c > 0; c--) compounds.push({ t, county, name: `${pick(BRANDS)}${pick(COMPOUNDS)}` });
  }
  let imeiSerial = 0;
  compounds.forEach(({ t, name }, ci) => {
    add(t, 'electrical_fire', 'RG-EF400', serial('efm'), name, '地下室配电房');
    for (let k = int(2, 5); k > 0; k--) add(t, 'electrical_fire', 'RG-EF-ARC10', serial('arc'), name, `${k}栋公共照明回路`);
    for (let k = int(1, 2); k > 0; k--) add(t, 'smoke', 'RG-YG30-4G', serial('smk'), name, `地下车库${k}区`);
    const budget = opts.devices - devices.length;
    const left = compounds.length - ci;
    let quota = ci === compounds.length - 1 ? budget : Math.min(budget, Math.round((budget / left) * (0.6 + 0.8 * rand())));
    const buildings = int(4, 16);
    const homes = new Set<string>();
    while (quota > 0) {
      const home = unique(homes, () => `${int(1, buildings)}栋${int(1, 3)}单元${int(2, 32)}${String(int(1, 6)).padStart(2, '0')}`);
      add(t, 'gas', 'RG-NB10', makeImei('86912304', ++imeiSerial), name, `${home} 厨房`);
      quota--;
      if (quota > 0 && rand() < 0.7) {
        add(t, 'smoke', 'RG-YG20-NB', makeImei('86835703', imeiSerial), name, `${home} 客厅`);
        quota--;
      }
    }
  });
  if (devices.length !== opts.devices) throw new Error(`generated ${devices.length} devices, wanted ${opts.devices}: too few households for the other sectors`);
  return { tenants, devices };
}
