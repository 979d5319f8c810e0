import type { LatLon } from '../route.js';

// Geography of the generated city fleet (devices/fleets/city.yaml): three county-level districts of Chengdu
// (GB/T 2260 codes, all in src/registry/region-store.ts REGION_SEED) and road corridors for the vehicles. Coordinates
// are WGS-84 approximations, good enough for a simulation, not for navigation.

/** A county-level district the fleet covers. */
export interface County {
  /** GB/T 2260 code. */
  code: string;
  name: string;
  /** [south, west, north, east] degrees: where its sites are placed. */
  bbox: readonly [number, number, number, number];
  /** Street / area names used for shop and site names. */
  areas: readonly string[];
}

export const COUNTIES: readonly County[] = [
  {
    code: '510104',
    name: '锦江区',
    bbox: [30.565, 104.075, 30.668, 104.165],
    areas: ['春熙路', '太古里', '东大街', '水井坊', '合江亭', '红星路', '牛王庙', '书院街', '盐市口', '锦华路', '三圣乡', '东湖', '攀成钢', '沙河堡'],
  },
  {
    code: '510107',
    name: '武侯区',
    bbox: [30.585, 103.985, 30.662, 104.068],
    areas: ['玉林', '桐梓林', '科华北路', '红牌楼', '武侯祠', '双楠', '簇桥', '衣冠庙', '新南门', '晋阳', '机投', '金花', '高升桥', '望江'],
  },
  {
    code: '510116',
    name: '双流区',
    bbox: [30.430, 103.820, 30.615, 104.000],
    areas: ['东升', '西航港', '九江', '黄甲', '彭镇', '胜利', '黄水', '永安', '空港', '蛟龙港', '棠湖', '怡心湖'],
  },
];

/** A road corridor vehicles drive; `closed` corridors are loops (first point = last point). */
export interface Corridor {
  name: string;
  points: LatLon[];
}

/** A ring road approximated by `n` points on a circle of `radiusKm` around the city centre (closed). */
function ring(name: string, radiusKm: number, n = 16): Corridor {
  const [lat0, lon0] = [30.66, 104.065];
  const points: LatLon[] = [];
  for (let i = 0; i <= n; i++) {
    const a = ((i % n) / n) * 2 * Math.PI;
    const lat = lat0 + (radiusKm / 111.2) * Math.sin(a);
    const lon = lon0 + (radiusKm / (111.2 * Math.cos((lat0 * Math.PI) / 180))) * Math.cos(a);
    points.push([Math.round(lat * 1e4) / 1e4, Math.round(lon * 1e4) / 1e4]);
  }
  return { name, points };
}

/** Corridors for hazardous-goods trucks (depots, filling stations, industrial parks). */
export const HAZMAT_CORRIDORS: readonly Corridor[] = [
  ring('绕城高速', 12.5, 20),
  ring('三环路', 6.8),
  { name: '成雅高速', points: [[30.628, 104.010], [30.590, 103.960], [30.550, 103.900], [30.490, 103.850], [30.410, 103.810]] },
  { name: '成渝高速', points: [[30.630, 104.130], [30.600, 104.200], [30.570, 104.270], [30.540, 104.350]] },
  { name: '成自泸高速', points: [[30.580, 104.100], [30.540, 104.135], [30.500, 104.170], [30.420, 104.250]] },
  { name: '成绵高速', points: [[30.700, 104.080], [30.750, 104.100], [30.820, 104.150], [30.900, 104.200]] },
  { name: '西航港物流环线', points: [[30.550, 103.970], [30.550, 104.000], [30.530, 104.000], [30.530, 103.970], [30.550, 103.970]] },
  { name: '天府大道', points: [[30.657, 104.066], [30.620, 104.070], [30.580, 104.070], [30.540, 104.070], [30.480, 104.070]] },
];

/** Corridors for coaches: from a passenger station out along an expressway. */
export const COACH_CORRIDORS: readonly Corridor[] = [
  { name: '新南门—成雅高速', points: [[30.644, 104.080], [30.628, 104.040], [30.590, 103.960], [30.550, 103.900], [30.490, 103.850], [30.410, 103.810]] },
  { name: '新南门—成渝高速', points: [[30.644, 104.080], [30.635, 104.110], [30.630, 104.130], [30.600, 104.200], [30.570, 104.270], [30.540, 104.350]] },
  { name: '双流客运站—机场高速', points: [[30.574, 103.923], [30.585, 103.960], [30.610, 104.010], [30.635, 104.042], [30.644, 104.080]] },
  { name: '城东客运站—成绵高速', points: [[30.668, 104.112], [30.700, 104.080], [30.750, 104.100], [30.820, 104.150], [30.900, 104.200]] },
  { name: '石羊客运站—成温邛高速', points: [[30.590, 104.055], [30.640, 104.010], [30.670, 104.000], [30.680, 103.920], [30.690, 103.840], [30.700, 103.760]] },
];
